//! The tar archives inside packets and drafts: ustar entries with fixed
//! metadata (mode 0600, mtime 0, no owner), so that nothing about the
//! station's clock, users or host leaks into them and equal content gives
//! equal bytes.

use std::collections::BTreeMap;
use std::io::Read;

/// A tar of `entries`, in order.
pub fn write<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> std::io::Result<Vec<u8>> {
    let mut archive = tar::Builder::new(Vec::new());
    for (path, bytes) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(0);
        header.set_cksum();
        archive.append_data(&mut header, path, bytes)?;
    }
    archive.into_inner()
}

/// Every file of a tar, by path.
pub fn read(bytes: &[u8]) -> std::io::Result<BTreeMap<String, Vec<u8>>> {
    let mut archive = tar::Archive::new(bytes);
    let mut files = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        files.insert(path, data);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_round_trip_with_fixed_metadata() {
        let bytes =
            super::write([("a.json", b"{}".as_slice()), ("dir/b.raw", &[0, 255])]).expect("writes");
        let again =
            super::write([("a.json", b"{}".as_slice()), ("dir/b.raw", &[0, 255])]).expect("writes");
        assert_eq!(bytes, again, "no time or owner in the archive");
        let files = super::read(&bytes).expect("reads");
        assert_eq!(files["a.json"], b"{}");
        assert_eq!(files["dir/b.raw"], [0, 255]);
        assert!(
            super::read(&bytes[..700]).is_err(),
            "a cut archive is an error"
        );
    }
}
