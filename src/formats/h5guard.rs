//! Checks that stand between a hostile HDF5 file and the library calls that would trust
//! it. Every kuzet HDF5 reader (captures, SM.2117, baselines) runs them before it reads a
//! byte of a dataset.
//!
//! - Links: an external link (or a user-defined one) makes HDF5 open another file when
//!   the link is followed; kuzet follows none and refuses a file that has one where it
//!   looks.
//! - Storage: external raw storage and virtual datasets make HDF5 read other files' bytes
//!   (a secret, `/dev/zero`) as if they were the dataset's; refused, so `convert` can never
//!   copy another file's bytes into its output.
//! - Size: a dataset's declared extent is checked against the bytes the file really holds
//!   for it ([`stored_rows`]), so a file of a few KB cannot declare 2^60 samples of fill
//!   value and keep `analyze` busy for hours or `convert` writing until the disk is full.
//! - Strings: a variable-length string attribute is read without libhdf5 following its
//!   descriptor into the global heap ([`read_vlen_string`]): libhdf5 1.10 trusts that
//!   descriptor, and one flipped bit in it crashed kuzet (SIGSEGV in `H5HG_read`) or made
//!   it ask for gigabytes.
//! - SWMR: a damaged checksum must not make the SWMR open retry for ever ([`open_swmr`]).

use std::path::Path;

use hdf5::dataset::Layout;
use hdf5::{Dataset, Group, LinkType, LocationType};

use super::h5raw;
use crate::error::CaptureProblem;

/// Groups below the root that a walk enters (the SM.2117 reader searches 4 deep).
const MAX_DEPTH: usize = 4;
/// Links a walk looks at before it gives up on the file: far more than any capture has,
/// few enough that a file of a million empty groups costs nothing.
const MAX_LINKS: usize = 4096;

/// The strongest decompression a stock libhdf5 filter achieves: deflate cannot exceed
/// 1032:1, and the other filters it ships (shuffle, fletcher32, nbit, scale-offset,
/// szip) compress real signals far less. A filtered dataset that claims more is a
/// decompression bomb, not a recording.
pub(crate) const MAX_FILTER_RATIO: u64 = 1100;

/// `name` as it may be shown: control characters escaped, at most 60 characters.
pub(crate) fn shown(name: &str) -> String {
    let mut s: String = name
        .chars()
        .take(60)
        .collect::<String>()
        .escape_debug()
        .collect();
    if name.chars().count() > 60 {
        s.push('…');
    }
    s
}

/// Refuses external and user-defined links in `group` and the groups below it (hard
/// links only, [`MAX_DEPTH`] deep), `prefix` being the group's path.
///
/// # Errors
/// [`CaptureProblem::Outside`] naming the first such link; the library's error when the
/// group cannot be listed; [`CaptureProblem::BadField`] when it holds more than
/// [`MAX_LINKS`] links.
pub(crate) fn refuse_external_links(group: &Group) -> Result<(), CaptureProblem> {
    let mut budget = MAX_LINKS;
    walk(group, "", 0, &mut budget)
}

fn walk(
    group: &Group,
    prefix: &str,
    depth: usize,
    budget: &mut usize,
) -> Result<(), CaptureProblem> {
    let mut hard = Vec::new();
    let mut outside = None;
    let mut too_many = false;
    group
        .iter_visit_default(|name, info| {
            if *budget == 0 {
                too_many = true;
                return Err("stop".into());
            }
            *budget -= 1;
            match info.link_type {
                LinkType::Hard => hard.push(name.to_string()),
                LinkType::Soft => {}
                // External, or a user-defined type that HDF5 reports the same way.
                _ => {
                    outside = Some(name.to_string());
                    return Err("stop".into());
                }
            }
            Ok(())
        })
        .or_else(|e| {
            if too_many || outside.is_some() {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    if let Some(name) = outside {
        return Err(CaptureProblem::Outside(format!(
            "`{prefix}/{}` is an external link to another file",
            shown(&name)
        )));
    }
    if too_many {
        return Err(CaptureProblem::BadField {
            field: "HDF5 content",
            why: format!("has more than {MAX_LINKS} links; not a recording"),
        });
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    for name in hard {
        // A hard link's target is in this file; only groups have links of their own.
        if matches!(group.loc_type_by_name(&name), Ok(LocationType::Group)) {
            let sub = group.group(&name)?;
            walk(&sub, &format!("{prefix}/{name}"), depth + 1, budget)?;
        }
    }
    Ok(())
}

/// Refuses a dataset whose bytes live outside the file: external raw storage or a
/// virtual dataset. `name` is how messages show it (`/iq`).
///
/// # Errors
/// [`CaptureProblem::Outside`]; the library's error when the creation properties cannot
/// be read.
pub(crate) fn refuse_outside_storage(ds: &Dataset, name: &str) -> Result<(), CaptureProblem> {
    let dcpl = ds.dcpl()?;
    if h5raw::external_count(&dcpl)? > 0 {
        return Err(CaptureProblem::Outside(format!(
            "`{name}` is stored in another file (HDF5 external raw storage)"
        )));
    }
    match dcpl.get_layout()? {
        Layout::Compact | Layout::Contiguous | Layout::Chunked => Ok(()),
        // Virtual, or a layout newer than this reader knows.
        _ => Err(CaptureProblem::Outside(format!(
            "`{name}` is a virtual dataset, drawn from other datasets or files"
        ))),
    }
}

/// The most rows of `ds` (counted along its first dimension) whose bytes the file can
/// really hold. Reading beyond them could only return fill values, or decompress a bomb:
///
/// - compact: what the object header holds (at most 64 KiB);
/// - contiguous: the allocated bytes that lie inside the file (none if unallocated);
/// - chunked: the allocated chunks' bytes, bounded by the file's size; times
///   [`MAX_FILTER_RATIO`] when the data is filtered (compressed).
///
/// `file_len` is the file's size in bytes. Call [`refuse_outside_storage`] first.
///
/// # Errors
/// The library's error when the layout cannot be read.
pub(crate) fn stored_rows(ds: &Dataset, file_len: u64) -> hdf5::Result<u64> {
    let shape = ds.shape();
    let row_bytes = shape
        .iter()
        .skip(1)
        .fold(ds.dtype()?.size() as u64, |acc, &d| {
            acc.saturating_mul(d as u64)
        });
    if row_bytes == 0 {
        return Ok(0);
    }
    let dcpl = ds.dcpl()?;
    let stored = match dcpl.get_layout()? {
        // The compact layout's size field is 16 bits.
        Layout::Compact => 1 << 16,
        Layout::Contiguous => match ds.offset() {
            None => 0,
            Some(off) => h5raw::storage_size(ds).min(file_len.saturating_sub(off)),
        },
        Layout::Chunked => {
            let bytes = h5raw::storage_size(ds).min(file_len);
            if dcpl.get_filters()?.is_empty() {
                bytes
            } else {
                bytes.saturating_mul(MAX_FILTER_RATIO)
            }
        }
        _ => 0,
    };
    Ok(stored / row_bytes)
}

/// The rows of `ds` to read: its declared length, unless the file holds less
/// ([`stored_rows`]), in which case the stored length and a warning for the operator.
///
/// # Errors
/// [`CaptureProblem::Truncated`] when the file stores none of the declared rows; the
/// library's error.
pub(crate) fn readable_rows(
    ds: &Dataset,
    name: &str,
    path: &Path,
    what: &str,
) -> Result<(u64, Option<String>), CaptureProblem> {
    let declared = ds.shape().first().copied().unwrap_or(0) as u64;
    let file_len = std::fs::metadata(path)?.len();
    let stored = stored_rows(ds, file_len)?;
    if declared <= stored {
        return Ok((declared, None));
    }
    if stored == 0 {
        return Err(CaptureProblem::Truncated(format!(
            "`{name}` declares {declared} {what} but the file stores none of them"
        )));
    }
    Ok((
        stored,
        Some(format!(
            "`{name}` declares {declared} {what} but the file holds data for at most \
             {stored}; reading {stored}"
        )),
    ))
}

/// The largest global-heap collection read. A collection holds many small strings (4 KiB
/// is the library's default); a longer string gets a collection of its own.
const MAX_COLLECTION: u64 = 16 << 20;

/// Reads a scalar variable-length string attribute without letting libhdf5 follow its
/// descriptor: the descriptor is read as stored ([`h5raw::read_vlen_descriptor`]) and the
/// string taken from its global-heap collection here, every offset and length checked
/// against the collection and the file ([`heap_object`]).
///
/// # Errors
/// What is wrong, in words: a descriptor that points outside the file or at no object,
/// a collection that is not one, the library's error.
pub(crate) fn read_vlen_string(attr: &hdf5::Attribute) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::FileExt;
    let file = attr.file().map_err(|e| e.to_string())?;
    let sizes = file.fcpl().map_err(|e| e.to_string())?.sizes();
    let (sizeof_addr, sizeof_size) = (sizes.sizeof_addr as usize, sizes.sizeof_size as usize);
    let d = h5raw::read_vlen_descriptor(attr, sizeof_addr).map_err(|e| e.to_string())?;
    if d.len == 0 {
        return Ok(Vec::new());
    }
    let f = std::fs::File::open(file.filename()).map_err(|e| e.to_string())?;
    let file_len = f.metadata().map_err(|e| e.to_string())?.len();
    // Addresses are relative to the base address: the end of the user block, if any.
    let at = file.userblock().checked_add(d.collection);
    let header = 8 + sizeof_size;
    let mut head = vec![0u8; header];
    let at = at
        .filter(|a| {
            a.checked_add(header as u64)
                .is_some_and(|end| end <= file_len)
        })
        .ok_or_else(|| format!("points at byte {} of a {file_len}-byte file", d.collection))?;
    f.read_exact_at(&mut head, at).map_err(|e| e.to_string())?;
    if &head[..5] != b"GCOL\x01" {
        return Err(format!("points at byte {at}, which is not a global heap"));
    }
    let size = le(&head[8..]);
    if size < header as u64 || size > MAX_COLLECTION || at + size > file_len {
        return Err(format!(
            "its global heap at byte {at} claims {size} bytes (the file has {file_len})"
        ));
    }
    let mut collection = vec![0u8; size as usize];
    f.read_exact_at(&mut collection, at)
        .map_err(|e| e.to_string())?;
    let object = heap_object(&collection, sizeof_size, d.index).ok_or_else(|| {
        format!(
            "names object {} that its global heap does not hold",
            d.index
        )
    })?;
    object
        .get(..d.len as usize)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            format!(
                "is {} bytes long but its heap object holds {}",
                d.len,
                object.len()
            )
        })
}

/// Little-endian unsigned integer of up to 8 bytes.
fn le(b: &[u8]) -> u64 {
    b.iter()
        .take(8)
        .rev()
        .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// The data of object `index` in a global-heap collection (`collection` holds the whole
/// collection from its `GCOL` signature; `sizeof_size` is the file's length size), or
/// `None` when no object has that index or an object's size runs past the collection.
///
/// Layout (HDF5 file format, III.E): signature, version, 3 reserved bytes, collection
/// size; then objects of {index: u16, references: u16, reserved: u32, size, data padded
/// to 8 bytes}; the free-space object, index 0, ends the list.
pub(crate) fn heap_object(collection: &[u8], sizeof_size: usize, index: u32) -> Option<&[u8]> {
    if index == 0 || !(2..=8).contains(&sizeof_size) {
        return None;
    }
    let object_header = 8 + sizeof_size;
    let mut at = 8 + sizeof_size;
    while at.checked_add(object_header)? <= collection.len() {
        let id = u32::from(u16::from_le_bytes([collection[at], collection[at + 1]]));
        if id == 0 {
            return None;
        }
        let size = usize::try_from(le(&collection[at + 8..at + object_header])).ok()?;
        let start = at + object_header;
        let end = start.checked_add(size)?;
        if end > collection.len() {
            return None;
        }
        if id == index {
            return Some(&collection[start..end]);
        }
        // Data is padded to a multiple of 8 bytes.
        at = start.checked_add(size.checked_add(7)? & !7)?;
    }
    None
}

/// Metadata read attempts in SWMR read mode. libhdf5 retries a metadata block whose
/// checksum fails (a live writer may be midway), sleeping twice as long each time from
/// 1 ns; its default of 100 attempts turns one damaged checksum into a sleep of 2^100 ns,
/// so a corrupted file would hang every reader. Eight attempts cost under a microsecond.
const SWMR_READ_ATTEMPTS: u32 = 8;

/// Opens an HDF5 file in SWMR read mode (how a recording whose writer died opens up to
/// its last flush), with few metadata read retries ([`SWMR_READ_ATTEMPTS`]).
///
/// # Errors
/// The HDF5 library's error.
pub fn open_swmr(path: &Path) -> hdf5::Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fapl(|p| p.metadata_read_attempts(SWMR_READ_ATTEMPTS))
        .open_as(path, hdf5::file::OpenMode::ReadSWMR)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A collection with 8-byte lengths holding `objects` (index, data), then free space.
    fn collection(objects: &[(u16, &[u8])]) -> Vec<u8> {
        let mut c = b"GCOL\x01\0\0\0".to_vec();
        c.extend_from_slice(&0u64.to_le_bytes()); // size, patched below
        for (index, data) in objects {
            c.extend_from_slice(&index.to_le_bytes());
            c.extend_from_slice(&1u16.to_le_bytes());
            c.extend_from_slice(&[0; 4]);
            c.extend_from_slice(&(data.len() as u64).to_le_bytes());
            c.extend_from_slice(data);
            c.resize(c.len().next_multiple_of(8), 0);
        }
        c.extend_from_slice(&[0; 16]); // the free-space object, index 0
        let len = c.len() as u64;
        c[8..16].copy_from_slice(&len.to_le_bytes());
        c
    }

    #[test]
    fn heap_objects_are_found_by_index_past_padding() {
        let c = collection(&[
            (1, b"kuzet-capture"),
            (2, b"2024-01-02T03:04:05Z"),
            (3, b""),
        ]);
        assert_eq!(heap_object(&c, 8, 1), Some(&b"kuzet-capture"[..]));
        assert_eq!(heap_object(&c, 8, 2), Some(&b"2024-01-02T03:04:05Z"[..]));
        assert_eq!(heap_object(&c, 8, 3), Some(&b""[..]));
    }

    #[test]
    fn damaged_heaps_name_no_object() {
        let c = collection(&[(1, b"abc"), (2, b"defgh")]);
        // An index the heap does not hold, and index 0 (free space).
        assert_eq!(heap_object(&c, 8, 7), None);
        assert_eq!(heap_object(&c, 8, 0), None);
        // An object whose size runs past the collection.
        let mut big = c.clone();
        big[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(heap_object(&big, 8, 1), None);
        assert_eq!(heap_object(&big, 8, 2), None);
        // Cut short anywhere: never a panic, never bytes from beyond the cut.
        for cut in 0..c.len() {
            if let Some(o) = heap_object(&c[..cut], 8, 2) {
                assert_eq!(o, b"defgh");
            }
        }
        // Lengths that no HDF5 file has.
        assert_eq!(heap_object(&c, 0, 1), None);
        assert_eq!(heap_object(&c, 9, 1), None);
    }

    #[test]
    fn shown_names_escape_control_characters_and_are_cut() {
        assert_eq!(shown("iq"), "iq");
        assert_eq!(shown("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 61);
    }
}
