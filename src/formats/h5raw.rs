//! Hyperslab reads and writes straight into caller buffers.
//!
//! The high-level `hdf5` API allocates a fresh array for every slice it reads; the file
//! source reads tens of thousands of samples per block into pooled buffers, so it goes to
//! `H5Dread`/`H5Dwrite` directly. Every call holds the `hdf5` crate's library lock, because
//! Debian's libhdf5 is built without thread safety and the recorder may be writing on
//! another thread.
#![allow(unsafe_code)]

use hdf5::{Dataset, Datatype};
use hdf5_sys::h5d::{H5Dget_chunk_info_by_coord, H5Dget_space, H5Dread, H5Dset_extent, H5Dwrite};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5Sclose, H5Screate_simple, H5Sselect_hyperslab, H5S_SELECT_SET};

/// Closes a dataspace id when dropped, so early returns cannot leak it.
struct Space(hid_t);

impl Drop for Space {
    fn drop(&mut self) {
        // SAFETY: the id came from H5Dget_space/H5Screate_simple and is closed exactly once.
        unsafe {
            H5Sclose(self.0);
        }
    }
}

fn check(ret: i32, what: &str) -> hdf5::Result<()> {
    if ret < 0 {
        Err(hdf5::Error::from(format!("{what} failed")))
    } else {
        Ok(())
    }
}

/// Selects `count` rows from row `start` of a rank-1 or rank-2 dataset (all columns) and
/// returns (file space, memory space).
fn select(ds: &Dataset, start: u64, count: u64, cols: Option<u64>) -> hdf5::Result<(Space, Space)> {
    // SAFETY: plain C calls on ids owned by `ds`; the arrays outlive the calls.
    unsafe {
        let fspace = H5Dget_space(ds.id());
        if fspace < 0 {
            return Err("H5Dget_space failed".into());
        }
        let fspace = Space(fspace);
        let (rank, start_v, count_v) = match cols {
            None => (1, [start, 0], [count, 0]),
            Some(c) => (2, [start, 0], [count, c]),
        };
        check(
            H5Sselect_hyperslab(
                fspace.0,
                H5S_SELECT_SET,
                start_v.as_ptr(),
                std::ptr::null(),
                count_v.as_ptr(),
                std::ptr::null(),
            ),
            "H5Sselect_hyperslab",
        )?;
        let mspace = H5Screate_simple(rank, count_v.as_ptr(), std::ptr::null());
        if mspace < 0 {
            return Err("H5Screate_simple failed".into());
        }
        Ok((fspace, Space(mspace)))
    }
}

/// Reads `out.len() / cols` rows starting at `start` into `out`, converting from the
/// file's type to `mem_type`, which must describe exactly one `T`.
///
/// # Errors
/// The HDF5 library's error, e.g. a selection beyond the dataset's extent or a damaged chunk.
pub(crate) fn read_rows<T: Copy>(
    ds: &Dataset,
    mem_type: &Datatype,
    start: u64,
    cols: Option<u64>,
    out: &mut [T],
) -> hdf5::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let rows = (out.len() as u64) / cols.unwrap_or(1);
    debug_assert_eq!(mem_type.size(), std::mem::size_of::<T>());
    hdf5::sync::sync(|| {
        let (fspace, mspace) = select(ds, start, rows, cols)?;
        // SAFETY: `out` holds rows*cols elements of T, which is what mspace describes, and
        // mem_type has T's size; HDF5 writes only within that buffer.
        let ret = unsafe {
            H5Dread(
                ds.id(),
                mem_type.id(),
                mspace.0,
                fspace.0,
                H5P_DEFAULT,
                out.as_mut_ptr().cast(),
            )
        };
        check(ret, "H5Dread")
    })
}

/// File offset of the stored chunk of a chunked dataset whose first row is `row` (all
/// other coordinates 0), checked to hold at least `bytes` unfiltered bytes. The caller
/// reads the chunk with the operating system's positioned reads, straight into its own
/// buffer: no HDF5 selection, conversion or chunk cache, and no intermediate copy.
///
/// The address is relative to the HDF5 base address, which is the file's start unless
/// the file has a user block; the caller checks that it has none.
///
/// # Errors
/// The HDF5 library's error (an unallocated chunk of a recording that died, a damaged
/// file), or a chunk that is filtered or smaller than `bytes`.
pub(crate) fn chunk_address(ds: &Dataset, row: u64, rank: usize, bytes: u64) -> hdf5::Result<u64> {
    let offset = [row, 0];
    if rank == 0 || rank > offset.len() {
        return Err(hdf5::Error::from(format!("rank {rank} dataset")));
    }
    hdf5::sync::sync(|| {
        let (mut mask, mut addr, mut size) = (0u32, 0u64, 0u64);
        // SAFETY: `offset` has at least one entry per dimension (rank checked above); the
        // out-pointers are live.
        check(
            unsafe {
                H5Dget_chunk_info_by_coord(
                    ds.id(),
                    offset.as_ptr(),
                    &mut mask,
                    &mut addr,
                    &mut size,
                )
            },
            "H5Dget_chunk_info_by_coord",
        )?;
        // An unallocated chunk reports the undefined address (all ones).
        if mask != 0 || size < bytes || addr == u64::MAX {
            return Err(hdf5::Error::from(format!(
                "chunk at {row}: {size} stored bytes at {addr:#x}, filter mask {mask}"
            )));
        }
        Ok(addr)
    })
}

/// Grows a chunked dataset along its first dimension to `rows` and writes `data` into the
/// new rows `[start, start + data.len() / cols)`.
///
/// # Errors
/// The HDF5 library's error (disk full, dataset not extendible, ...).
pub(crate) fn append_rows<T: Copy>(
    ds: &Dataset,
    mem_type: &Datatype,
    start: u64,
    cols: Option<u64>,
    data: &[T],
) -> hdf5::Result<()> {
    let rows = (data.len() as u64) / cols.unwrap_or(1);
    write_rows(ds, mem_type, start, start + rows, cols, data)
}

/// Sets a chunked dataset's first dimension to `total` rows and writes `data` into rows
/// `[start, start + data.len() / cols)`, which must lie within `total`. Rewriting rows
/// already written is allowed under SWMR; only shrinking would not be.
///
/// # Errors
/// The HDF5 library's error (disk full, dataset not extendible, ...).
pub(crate) fn write_rows<T: Copy>(
    ds: &Dataset,
    mem_type: &Datatype,
    start: u64,
    total: u64,
    cols: Option<u64>,
    data: &[T],
) -> hdf5::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let rows = (data.len() as u64) / cols.unwrap_or(1);
    if start + rows > total {
        return Err(hdf5::Error::from(
            "rows written past the dataset's new extent",
        ));
    }
    hdf5::sync::sync(|| {
        let new_dims = [total, cols.unwrap_or(0)];
        // SAFETY: new_dims has at least `rank` entries; the dataset is chunked and extendible.
        check(
            unsafe { H5Dset_extent(ds.id(), new_dims.as_ptr()) },
            "H5Dset_extent",
        )?;
        let (fspace, mspace) = select(ds, start, rows, cols)?;
        // SAFETY: `data` holds rows*cols elements of T as mspace describes.
        let ret = unsafe {
            H5Dwrite(
                ds.id(),
                mem_type.id(),
                mspace.0,
                fspace.0,
                H5P_DEFAULT,
                data.as_ptr().cast(),
            )
        };
        check(ret, "H5Dwrite")
    })
}

/// The longest fixed-length string attribute read: far more than any text kuzet keeps.
const MAX_FIXED_STRING: usize = 1 << 16;

/// Reads a scalar fixed-length string attribute as its raw bytes, in the file's own type.
/// hdf5-metno refuses some fixed-string conversions (h5py's NULLPAD `np.bytes_`), but
/// reading a type into itself always works.
///
/// # Errors
/// The HDF5 library's error; an attribute of more than one element or longer than
/// 64 KiB (H5Aread would write every element into the one-element buffer).
pub(crate) fn read_fixed_string_attr(attr: &hdf5::Attribute) -> hdf5::Result<Vec<u8>> {
    let dtype = attr.dtype()?;
    if attr.size() != 1 || dtype.size() > MAX_FIXED_STRING {
        return Err(hdf5::Error::from(format!(
            "a string of {} bytes in {} elements; expected one",
            dtype.size(),
            attr.size()
        )));
    }
    let mut buf = vec![0u8; dtype.size()];
    hdf5::sync::sync(|| {
        // SAFETY: `buf` is exactly one element of the attribute's own (fixed-size) type.
        let ret = unsafe { hdf5_sys::h5a::H5Aread(attr.id(), dtype.id(), buf.as_mut_ptr().cast()) };
        check(ret, "H5Aread")
    })?;
    Ok(buf)
}

/// Bytes the file has allocated for a dataset's data: for a chunked one, the stored
/// (possibly compressed) size of the chunks that exist; 0 when none is allocated or the
/// library cannot tell.
pub(crate) fn storage_size(ds: &Dataset) -> u64 {
    // SAFETY: a plain query on a live dataset id; it returns 0 on error.
    hdf5::sync::sync(|| unsafe { hdf5_sys::h5d::H5Dget_storage_size(ds.id()) })
}

/// How many external raw-storage files a dataset's creation properties name.
///
/// # Errors
/// The HDF5 library's error.
pub(crate) fn external_count(dcpl: &hdf5::plist::DatasetCreate) -> hdf5::Result<u32> {
    // SAFETY: a plain query on a live property-list id.
    let n = hdf5::sync::sync(|| unsafe { hdf5_sys::h5p::H5Pget_external_count(dcpl.id()) });
    u32::try_from(n).map_err(|_| hdf5::Error::from("H5Pget_external_count failed"))
}

/// Tag of the opaque type that a variable-length string attribute is read into, so that
/// [`keep_descriptor`] applies to kuzet's reads and nothing else.
const DESCRIPTOR_TAG: &std::ffi::CStr = c"kuzet: stored vlen descriptor";

/// An HDF5 conversion function from a variable-length string to kuzet's tagged opaque
/// type of the same size that converts nothing: the buffer already holds the attribute's
/// bytes as stored, which for a variable-length string is its descriptor (length,
/// global-heap collection address, object index). libhdf5 1.10's own conversion follows
/// that descriptor without checking it (a corrupt one crashes in `H5HG_read` or asks for
/// gigabytes); kuzet checks it and reads the heap itself ([`super::h5guard::heap_object`]).
extern "C" fn keep_descriptor(
    src_id: hid_t,
    dst_id: hid_t,
    cdata: *mut hdf5_sys::h5t::H5T_cdata_t,
    _nelmts: usize,
    _buf_stride: usize,
    _bkg_stride: usize,
    _buf: *mut std::ffi::c_void,
    _bkg: *mut std::ffi::c_void,
    _dxpl: hid_t,
) -> hdf5_sys::h5::herr_t {
    use hdf5_sys::h5t::{
        H5T_bkg_t, H5T_class_t, H5T_cmd_t, H5Tget_class, H5Tget_size, H5Tget_tag,
        H5Tis_variable_str,
    };
    if cdata.is_null() {
        return -1;
    }
    // SAFETY: HDF5 passes a live cdata and live type ids; the tag string is HDF5's
    // allocation, read before it is freed with H5free_memory.
    unsafe {
        match (*cdata).command {
            H5T_cmd_t::H5T_CONV_INIT => {
                (*cdata).need_bkg = H5T_bkg_t::H5T_BKG_NO;
                if H5Tis_variable_str(src_id) <= 0
                    || H5Tget_class(dst_id) != H5T_class_t::H5T_OPAQUE
                    || H5Tget_size(src_id) != H5Tget_size(dst_id)
                {
                    return -1;
                }
                let tag = H5Tget_tag(dst_id);
                if tag.is_null() {
                    return -1;
                }
                let ours = std::ffi::CStr::from_ptr(tag) == DESCRIPTOR_TAG;
                hdf5_sys::h5::H5free_memory(tag.cast());
                if ours {
                    0
                } else {
                    -1
                }
            }
            // The stored bytes are the result: nothing to convert or free.
            _ => 0,
        }
    }
}

/// Registers [`keep_descriptor`] with the library once per process.
fn register_keep_descriptor() -> hdf5::Result<()> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        hdf5::sync::sync(|| {
            use hdf5_sys::h5t::{
                H5T_class_t, H5T_pers_t, H5Tclose, H5Tcopy, H5Tcreate, H5Tregister, H5Tset_size,
                H5Tset_tag, H5T_C_S1, H5T_VARIABLE,
            };
            // SAFETY: type ids made and closed here; the name and tag are NUL-terminated.
            unsafe {
                let src = H5Tcopy(*H5T_C_S1);
                let dst = H5Tcreate(H5T_class_t::H5T_OPAQUE, 16);
                let ok = src >= 0
                    && dst >= 0
                    && H5Tset_size(src, H5T_VARIABLE) >= 0
                    && H5Tset_tag(dst, DESCRIPTOR_TAG.as_ptr()) >= 0
                    && H5Tregister(
                        H5T_pers_t::H5T_PERS_SOFT,
                        c"kuzet_keep_vlen_descriptor".as_ptr(),
                        src,
                        dst,
                        Some(keep_descriptor),
                    ) >= 0;
                if src >= 0 {
                    H5Tclose(src);
                }
                if dst >= 0 {
                    H5Tclose(dst);
                }
                ok
            }
        })
    });
    if ok {
        Ok(())
    } else {
        Err(hdf5::Error::from(
            "registering the vlen descriptor reader failed",
        ))
    }
}

/// A variable-length string as stored: where its bytes are, not the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VlenDescriptor {
    /// Length of the string in bytes.
    pub len: u32,
    /// Address of the global-heap collection holding it (relative to the base address).
    pub collection: u64,
    /// Index of its object in that collection.
    pub index: u32,
}

/// Reads a scalar variable-length string attribute's stored descriptor without letting
/// the library follow it. `sizeof_addr` is the file's address size (its superblock's).
///
/// # Errors
/// The HDF5 library's error; an attribute that is not one variable-length string.
pub(crate) fn read_vlen_descriptor(
    attr: &hdf5::Attribute,
    sizeof_addr: usize,
) -> hdf5::Result<VlenDescriptor> {
    if attr.size() != 1 || !(2..=8).contains(&sizeof_addr) {
        return Err(hdf5::Error::from(format!(
            "{} variable-length strings with {sizeof_addr}-byte addresses; expected one",
            attr.size()
        )));
    }
    register_keep_descriptor()?;
    let stored = 8 + sizeof_addr;
    let mut buf = [0u8; 16];
    hdf5::sync::sync(|| {
        use hdf5_sys::h5t::{H5T_class_t, H5Tclose, H5Tcreate, H5Tset_tag};
        // SAFETY: the memory type is `stored` (at most 16) bytes, one element (checked
        // above), so H5Aread writes within `buf`; the type id is closed on every path.
        unsafe {
            let mem = H5Tcreate(H5T_class_t::H5T_OPAQUE, stored);
            if mem < 0 {
                return Err(hdf5::Error::from("H5Tcreate failed"));
            }
            let ret = if H5Tset_tag(mem, DESCRIPTOR_TAG.as_ptr()) < 0 {
                -1
            } else {
                hdf5_sys::h5a::H5Aread(attr.id(), mem, buf.as_mut_ptr().cast())
            };
            H5Tclose(mem);
            check(ret, "H5Aread (vlen descriptor)")
        }
    })?;
    // Stored little-endian: 4-byte length, collection address, 4-byte object index.
    let le = |b: &[u8]| {
        b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
    };
    Ok(VlenDescriptor {
        len: le(&buf[..4]) as u32,
        collection: le(&buf[4..4 + sizeof_addr]),
        index: le(&buf[4 + sizeof_addr..stored]) as u32,
    })
}

/// True when `loc` has an attribute called `name`. Looks the one name up (H5Aexists)
/// instead of listing every attribute (H5Aiterate2), which opens and closes each one:
/// attributes kuzet never reads are never opened.
///
/// # Errors
/// The HDF5 library's error.
pub(crate) fn attr_exists(loc: &hdf5::Location, name: &str) -> hdf5::Result<bool> {
    let name = std::ffi::CString::new(name).map_err(|e| hdf5::Error::from(e.to_string()))?;
    // SAFETY: a plain query on a live location id with a NUL-terminated name.
    let r = hdf5::sync::sync(|| unsafe { hdf5_sys::h5a::H5Aexists(loc.id(), name.as_ptr()) });
    check(r, "H5Aexists")?;
    Ok(r > 0)
}
