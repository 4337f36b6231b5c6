//! `--on-critical CMD`: a shell command the console runs when the bell rings for a
//! critical alert, with the alert as one JSON line on its stdin (to page someone, light a
//! lamp, write syslog). It must never hold up the console: the child is started, given
//! its line through a non-blocking pipe, and left to run; finished children are reaped
//! on later ticks. Its stdout and stderr go nowhere, since anything it printed would tear
//! through the console's screen.

use std::io::Write;
use std::process::{Child, Command, Stdio};

/// Children that may still be running at once; a command that hangs must not pile up
/// processes for every later alert.
pub const MAX_RUNNING: usize = 4;

/// Runs the operator's command, without ever waiting for it.
#[derive(Debug)]
pub struct CommandHook {
    command: String,
    running: Vec<Child>,
}

/// What became of one run.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    /// Started and handed its line.
    Yes,
    /// Not started: [`MAX_RUNNING`] earlier runs have not finished.
    Busy,
}

impl CommandHook {
    /// A hook running `command` with `sh -c`.
    pub fn new(command: String) -> Self {
        CommandHook {
            command,
            running: Vec::new(),
        }
    }

    /// The command line.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Starts the command with `line` (a newline is added) on its stdin, then closes its
    /// stdin. Does not wait: a command that never reads gets what fits in the pipe.
    ///
    /// # Errors
    /// The shell could not be started, or the pipe refused the line for another reason
    /// than being full.
    pub fn run(&mut self, line: &[u8]) -> std::io::Result<Started> {
        self.reap();
        if self.running.len() >= MAX_RUNNING {
            return Ok(Started::Busy);
        }
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let fed = match child.stdin.take() {
            Some(mut stdin) => {
                // An alert is a few hundred bytes, far below a pipe's 64 KiB, so this
                // write completes at once; non-blocking all the same, so that nothing the
                // child does can stall the console.
                rustix::fs::fcntl_getfl(&stdin)
                    .and_then(|fl| {
                        rustix::fs::fcntl_setfl(&stdin, fl | rustix::fs::OFlags::NONBLOCK)
                    })
                    .map_err(std::io::Error::from)
                    .and_then(|()| {
                        let mut buf = Vec::with_capacity(line.len() + 1);
                        buf.extend_from_slice(line);
                        buf.push(b'\n');
                        match stdin.write_all(&buf) {
                            // A command that exits without reading, or reads nothing.
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::WouldBlock
                                ) =>
                            {
                                Ok(())
                            }
                            r => r,
                        }
                    })
                // Dropping stdin closes it: the command sees the end of its input.
            }
            None => Ok(()),
        };
        self.running.push(child);
        fed.map(|()| Started::Yes)
    }

    /// Forgets children that have finished (reaping them, so none is left a zombie).
    pub fn reap(&mut self) {
        self.running
            .retain_mut(|c| matches!(c.try_wait(), Ok(None)));
    }

    /// Children not yet seen to finish.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Waits for every child (tests, and nothing else: the console never waits).
    #[cfg(test)]
    fn wait_all(&mut self) {
        for mut c in self.running.drain(..) {
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_gets_the_line_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("alert.json");
        let mut hook = CommandHook::new(format!("cat > '{}'", out.display()));
        let line = br#"{"id":7,"kind":"jamming","severity":"critical"}"#;
        assert_eq!(hook.run(line).unwrap(), Started::Yes);
        hook.wait_all();
        let got = std::fs::read(&out).unwrap();
        assert_eq!(got, [&line[..], b"\n"].concat());
    }

    #[test]
    fn a_command_that_never_reads_or_fails_does_not_stop_the_console() {
        let mut hook = CommandHook::new("exit 3".into());
        assert_eq!(hook.run(b"{}").unwrap(), Started::Yes);
        hook.wait_all();
        // One that hangs: at most MAX_RUNNING at once, then runs are refused, not queued.
        let mut slow = CommandHook::new("sleep 30".into());
        for _ in 0..MAX_RUNNING {
            assert_eq!(slow.run(b"{}").unwrap(), Started::Yes);
        }
        assert_eq!(slow.run(b"{}").unwrap(), Started::Busy);
        assert_eq!(slow.running(), MAX_RUNNING);
        for c in &mut slow.running {
            c.kill().unwrap();
        }
        slow.wait_all();
        assert_eq!(slow.running(), 0);
    }
}
