//! The alert desk's state, one type for both desks: a post's console ([`super::app::App`])
//! and HQ's ([`super::hq::HqApp`]) each own a [`Desk`], and
//! [`super::widgets::alerts::render`] draws either. Entries are kept oldest first and drawn
//! newest first; the selection is counted from the newest, so it stays on its alert as new
//! ones arrive on top. Alerts a suppression covers stay in the desk but are hidden: not
//! drawn, not selectable, not counted as active (the post console's `s`/`S`); an entry
//! acknowledged by marking its emitter known shows as `known`. Pure: no terminal, no
//! clock.

use std::sync::Arc;

use crate::alert::{Alert, AlertKind, AlertState, Severity};

/// How an alert stands on the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskState {
    /// Active, not yet acknowledged.
    New,
    /// Active and acknowledged.
    Acknowledged,
    /// Over.
    Cleared,
}

/// One alert on the desk: its latest report and whether it was acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskEntry {
    /// The latest state change received.
    pub alert: Alert,
    /// Acknowledged by the operator.
    pub acknowledged: bool,
    /// The post it came from (HQ's desk); `None` on a post's own console.
    pub post: Option<Arc<str>>,
    /// A suppression covers it: not on the desk, never rings.
    pub hidden: bool,
    /// Acknowledged by marking its emitter known (drawn as `known`).
    pub known: bool,
}

impl DeskEntry {
    /// New, acknowledged or cleared.
    pub fn state(&self) -> DeskState {
        if self.alert.state == AlertState::Cleared {
            DeskState::Cleared
        } else if self.acknowledged {
            DeskState::Acknowledged
        } else {
            DeskState::New
        }
    }
}

/// The alerts on a desk and the operator's selection among them.
#[derive(Debug, Clone, PartialEq)]
pub struct Desk {
    /// Oldest first.
    entries: Vec<DeskEntry>,
    /// Counted from the newest (0 = newest).
    selected: usize,
    /// Entries kept; beyond this the oldest cleared ones go first.
    max: usize,
    /// Suppressions in force (the title says so; set by the console that owns them).
    pub suppressions: usize,
}

impl Desk {
    /// An empty desk keeping at most `max` entries (at least one).
    pub fn new(max: usize) -> Desk {
        Desk {
            entries: Vec::new(),
            selected: 0,
            max: max.max(1),
            suppressions: 0,
        }
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[DeskEntry] {
        &self.entries
    }

    /// The selected entry's place counted from the newest.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The rows drawn, newest first: the entries no suppression hides.
    pub fn rows(&self) -> impl Iterator<Item = &DeskEntry> {
        self.entries.iter().rev().filter(|e| !e.hidden)
    }

    /// Rows drawn.
    pub fn visible(&self) -> usize {
        self.entries.iter().filter(|e| !e.hidden).count()
    }

    /// Index in the entries of the selected row.
    fn selected_index(&self) -> Option<usize> {
        self.entries
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, e)| !e.hidden)
            .nth(self.selected)
            .map(|(i, _)| i)
    }

    /// The selected entry.
    pub fn selected_entry(&self) -> Option<&DeskEntry> {
        self.selected_index().map(|i| &self.entries[i])
    }

    /// The newest entry of alert `id` from `post`, hidden or not.
    pub fn find(&self, id: u64, post: Option<&str>) -> Option<&DeskEntry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.alert.id == id && e.post.as_deref() == post)
    }

    /// [`Self::find`], to change.
    pub fn find_mut(&mut self, id: u64, post: Option<&str>) -> Option<&mut DeskEntry> {
        self.entries
            .iter_mut()
            .rev()
            .find(|e| e.alert.id == id && e.post.as_deref() == post)
    }

    /// Marks as `known` the acknowledged `new_emitter` entries `is_known` accepts (the
    /// emitter was marked known here, or is known by now).
    pub fn mark_known(&mut self, is_known: impl Fn(&Alert) -> bool) {
        for e in &mut self.entries {
            if e.acknowledged && e.alert.kind == AlertKind::NewEmitter && is_known(&e.alert) {
                e.known = true;
            }
        }
    }

    /// Recomputes which entries are hidden (`hide`: a suppression covers the alert),
    /// keeping the selection on its alert while that is still a row.
    pub fn refresh_hidden(&mut self, hide: impl Fn(&Alert) -> bool) {
        let selected = self.selected_index();
        for e in &mut self.entries {
            e.hidden = hide(&e.alert);
        }
        self.reselect(selected);
    }

    /// Puts the selection back on the entry at `index` if it is still a row (rows that
    /// appear or go above it move its place), else keeps it in range.
    fn reselect(&mut self, index: Option<usize>) {
        if let Some(i) = index.filter(|&i| self.entries.get(i).is_some_and(|e| !e.hidden)) {
            self.selected = self.entries[i + 1..].iter().filter(|e| !e.hidden).count();
        }
        self.clamp();
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.visible().saturating_sub(1));
    }

    /// Selects the next newer entry.
    pub fn select_newer(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    /// Selects the next older entry (stops at the oldest).
    pub fn select_older(&mut self) {
        self.selected = (self.selected + 1).min(self.visible().saturating_sub(1));
    }

    /// Selects the newest entry.
    pub fn select_newest(&mut self) {
        self.selected = 0;
    }

    /// Marks the selected entry acknowledged and returns it, unless there is none, it is
    /// cleared, or it was already acknowledged.
    pub fn acknowledge_selected(&mut self) -> Option<&DeskEntry> {
        let i = self.selected_index()?;
        let e = &mut self.entries[i];
        if e.acknowledged || e.alert.state == AlertState::Cleared {
            return None;
        }
        e.acknowledged = true;
        Some(e)
    }

    /// Takes one state change of an alert from `post` (`None` at a post's own console).
    /// A `raised` line starts an entry (a restarted post numbers its alerts from 1 again);
    /// a later line updates the newest entry of the same (post, id), and a line that
    /// records an acknowledgement (`acknowledged`) marks it instead. A line with no entry
    /// to update (it was trimmed, or came before this desk started) starts one. Returns
    /// true when it started an entry.
    pub fn take(&mut self, alert: Alert, post: Option<Arc<str>>, acknowledged: bool) -> bool {
        self.take_hidden(alert, post, acknowledged, false)
    }

    /// [`Self::take`], the alert `hidden` by a suppression (a hidden entry is not drawn,
    /// and a new one does not move the selection).
    pub fn take_hidden(
        &mut self,
        alert: Alert,
        post: Option<Arc<str>>,
        acknowledged: bool,
        hidden: bool,
    ) -> bool {
        if alert.state != AlertState::Raised || acknowledged {
            let selected = self.selected_index();
            if let Some(e) = self
                .entries
                .iter_mut()
                .rev()
                .find(|e| e.alert.id == alert.id && e.post == post)
            {
                if acknowledged {
                    e.acknowledged = true;
                } else {
                    e.alert = alert;
                }
                if e.hidden != hidden {
                    e.hidden = hidden;
                    self.reselect(selected);
                }
                return false;
            }
        }
        self.entries.push(DeskEntry {
            alert,
            acknowledged,
            post,
            hidden,
            known: false,
        });
        // Keep the operator's selection on the same alert as new ones arrive on top.
        if self.selected > 0 && !hidden {
            self.selected += 1;
        }
        if self.entries.len() > self.max {
            let drop = self
                .entries
                .iter()
                .position(|e| e.alert.state == AlertState::Cleared)
                .unwrap_or(0);
            self.entries.remove(drop);
        }
        self.clamp();
        true
    }

    /// Entries per severity among those not cleared: (critical, warning, info).
    pub fn active_counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for e in self
            .entries
            .iter()
            .filter(|e| !e.hidden && e.state() != DeskState::Cleared)
        {
            match e.alert.severity {
                Severity::Critical => c.0 += 1,
                Severity::Warning => c.1 += 1,
                Severity::Info => c.2 += 1,
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: u64, state: AlertState, severity: Severity) -> Alert {
        Alert {
            id,
            kind: AlertKind::NewEmitter,
            state,
            severity,
            first_seen_s: 1.0,
            last_seen_s: 1.0,
            freq_hz: 433.5e6,
            bandwidth_hz: 12_500.0,
            power_dbfs: -40.0,
            snr_db: 20.0,
            band: None,
            evidence: None,
            activity: None,
        }
    }

    #[test]
    fn the_oldest_cleared_entry_goes_first_when_full_and_the_selection_stays_put() {
        let mut d = Desk::new(3);
        d.take(alert(1, AlertState::Raised, Severity::Info), None, false);
        d.take(alert(2, AlertState::Raised, Severity::Info), None, false);
        d.take(alert(2, AlertState::Cleared, Severity::Info), None, false);
        d.take(alert(3, AlertState::Raised, Severity::Info), None, false);
        d.select_older();
        d.select_older();
        assert_eq!(d.selected_entry().map(|e| e.alert.id), Some(1));
        d.take(
            alert(4, AlertState::Raised, Severity::Critical),
            None,
            false,
        );
        let ids: Vec<u64> = d.entries().iter().map(|e| e.alert.id).collect();
        assert_eq!(ids, [1, 3, 4], "the cleared one went, not the oldest");
        assert_eq!(d.selected_entry().map(|e| e.alert.id), Some(1));
        assert_eq!(d.active_counts(), (1, 0, 2));
        // Full of active entries: the oldest goes.
        d.take(alert(5, AlertState::Raised, Severity::Warning), None, false);
        let ids: Vec<u64> = d.entries().iter().map(|e| e.alert.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        assert_eq!(d.selected(), 2, "clamped to the oldest");
    }

    #[test]
    fn entries_are_keyed_by_post_and_id_and_acknowledgement_lines_mark_them() {
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        let mut d = Desk::new(10);
        assert!(d.take(
            alert(1, AlertState::Raised, Severity::Info),
            Some(a.clone()),
            false
        ));
        assert!(d.take(
            alert(1, AlertState::Raised, Severity::Info),
            Some(b.clone()),
            false
        ));
        assert!(!d.take(
            alert(1, AlertState::Updated, Severity::Warning),
            Some(a.clone()),
            false
        ));
        assert!(!d.take(
            alert(1, AlertState::Raised, Severity::Info),
            Some(b.clone()),
            true
        ));
        let e = d.entries();
        assert_eq!(e[0].alert.severity, Severity::Warning);
        assert!(!e[0].acknowledged && e[1].acknowledged);
        assert_eq!(e[1].alert.severity, Severity::Info);
        assert!(
            d.acknowledge_selected().is_none(),
            "b's is already acknowledged"
        );
        d.select_older();
        assert_eq!(d.acknowledge_selected().map(|e| e.alert.id), Some(1));
        assert!(d.acknowledge_selected().is_none(), "once");
    }

    #[test]
    fn hidden_entries_are_not_rows_nor_selected_nor_counted() {
        let mut d = Desk::new(10);
        d.take(
            alert(1, AlertState::Raised, Severity::Critical),
            None,
            false,
        );
        d.take_hidden(
            alert(2, AlertState::Raised, Severity::Info),
            None,
            false,
            true,
        );
        d.take(alert(3, AlertState::Raised, Severity::Info), None, false);
        let rows: Vec<u64> = d.rows().map(|e| e.alert.id).collect();
        assert_eq!(rows, [3, 1]);
        assert_eq!(d.active_counts(), (1, 0, 1));
        d.select_older();
        d.select_older();
        assert_eq!(d.selected_entry().map(|e| e.alert.id), Some(1));
        assert_eq!(d.acknowledge_selected().map(|e| e.alert.id), Some(1));
        // Lifted: the entry is back, the selection stays in range.
        d.refresh_hidden(|_| false);
        assert_eq!(d.visible(), 3);
        d.refresh_hidden(|a| a.id != 3);
        assert_eq!(d.selected(), 0);
        assert_eq!(d.selected_entry().map(|e| e.alert.id), Some(3));
        // Known marks only acknowledged new_emitter entries.
        d.refresh_hidden(|_| false);
        d.mark_known(|_| true);
        let known: Vec<u64> = d.rows().filter(|e| e.known).map(|e| e.alert.id).collect();
        assert_eq!(known, [1]);
    }

    #[test]
    fn the_selection_stays_on_its_alert_as_rows_are_hidden_and_shown_above_it() {
        let mut d = Desk::new(10);
        for id in 1..=4 {
            d.take(alert(id, AlertState::Raised, Severity::Info), None, false);
        }
        d.select_older(); // 3
        d.refresh_hidden(|a| a.id == 4 || a.id == 2);
        assert_eq!(d.selected_entry().map(|e| e.alert.id), Some(3));
        assert_eq!(d.selected(), 0);
        // Its own alert hidden: the same place.
        d.refresh_hidden(|a| a.id == 3);
        assert_eq!(d.selected_entry().map(|e| e.alert.id), Some(4));
        d.select_older();
        d.select_older(); // 1: rows 4 2 1
                          // A hidden entry's update, no longer covered, is a row above: still on 1.
        d.take_hidden(
            alert(3, AlertState::Updated, Severity::Info),
            None,
            false,
            false,
        );
        assert_eq!(d.selected_entry().map(|e| e.alert.id), Some(1));
        assert_eq!(d.selected(), 3);
        d.refresh_hidden(|_| false);
        assert_eq!(d.selected_entry().map(|e| e.alert.id), Some(1));
    }
}
