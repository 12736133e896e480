//! The simulated `hardware.spiflash` of a device VM: a NOR flash chip kept in memory.
//! Erasing sets whole 4 KiB sectors to 0xFF; programming can only clear bits
//! (`new = old & data`), as on real NOR flash, and optional verification reports a
//! mismatch the way the imp does (a non-zero result).

/// Bytes of the simulated chip's user area: 64 KiB, the size Electric Imp's own
/// SPIFlashFileSystem suite was written for (its test devices').
pub const FLASH_SIZE: usize = 64 << 10;
/// Bytes of one erase sector.
pub const SECTOR: usize = 4096;
/// `SPIFLASH_POSTVERIFY`: check the bytes after programming.
const POSTVERIFY: i64 = 1;
/// `SPIFLASH_PREVERIFY`: check the target can take the data (no 0 bit must become 1).
const PREVERIFY: i64 = 2;

/// The chip; allocated (erased) on first use.
#[derive(Default)]
pub struct Flash {
    bytes: Vec<u8>,
}

impl Flash {
    fn mem(&mut self) -> &mut Vec<u8> {
        if self.bytes.is_empty() {
            self.bytes = vec![0xFF; FLASH_SIZE];
        }
        &mut self.bytes
    }

    fn range(addr: i64, len: usize) -> Result<std::ops::Range<usize>, String> {
        if addr < 0 || addr as usize + len > FLASH_SIZE {
            return Err(format!(
                "spiflash: address out of range (0x{addr:x}, {len} bytes, chip of {FLASH_SIZE} bytes)"
            ));
        }
        Ok(addr as usize..addr as usize + len)
    }

    /// Erases `len` bytes from `addr`, which must start a sector.
    pub fn erase(&mut self, addr: i64, len: usize) -> Result<(), String> {
        if addr % SECTOR as i64 != 0 {
            return Err(format!(
                "spiflash: erase address 0x{addr:x} is not on a 4 KiB sector boundary"
            ));
        }
        let r = Flash::range(addr, len)?;
        self.mem()[r].fill(0xFF);
        Ok(())
    }

    /// Reads `len` bytes from `addr`.
    pub fn read(&mut self, addr: i64, len: i64) -> Result<Vec<u8>, String> {
        if len < 0 {
            return Err("spiflash.read: negative length".into());
        }
        let r = Flash::range(addr, len as usize)?;
        Ok(self.mem()[r].to_vec())
    }

    /// Programs `data` at `addr`; 0 on success, non-zero when a requested verification
    /// fails (pre-verification failing leaves the chip unchanged).
    pub fn write(&mut self, addr: i64, data: &[u8], flags: i64) -> Result<i64, String> {
        let r = Flash::range(addr, data.len())?;
        let mem = self.mem();
        if flags & PREVERIFY != 0 && mem[r.clone()].iter().zip(data).any(|(o, d)| d & !o != 0) {
            return Ok(1);
        }
        for (o, d) in mem[r.clone()].iter_mut().zip(data) {
            *o &= d;
        }
        if flags & POSTVERIFY != 0 && mem[r] != *data {
            return Ok(1);
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nor_semantics() {
        let mut f = Flash::default();
        assert_eq!(f.read(0, 2).unwrap(), vec![0xFF, 0xFF]);
        assert_eq!(f.write(0, &[0x0F], POSTVERIFY).unwrap(), 0);
        // Bits can only be cleared: 0x0F then 0xF0 gives 0x00, and verification fails.
        assert_eq!(f.write(0, &[0xF0], POSTVERIFY).unwrap(), 1);
        assert_eq!(f.read(0, 1).unwrap(), vec![0x00]);
        assert_eq!(f.write(0, &[0xFF], PREVERIFY).unwrap(), 1);
        f.erase(0, SECTOR).unwrap();
        assert_eq!(f.read(0, 1).unwrap(), vec![0xFF]);
        assert!(f.erase(10, SECTOR).is_err());
        assert!(f.read(FLASH_SIZE as i64 - 1, 2).is_err());
    }
}
