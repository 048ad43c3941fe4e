//! A fast 64-bit checksum of the tensor bytes of a model file: it detects corrupted and flipped bytes, it is not
//! a cryptographic hash.

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;

/// Four independent multiply-rotate lanes over 32-byte blocks (xxHash64's structure), so the loop runs at
/// memory speed.
pub(crate) struct Checksum {
    lanes: [u64; 4],
    total: u64,
}

impl Checksum {
    pub(crate) fn new() -> Self {
        Checksum { lanes: [P1, P2, P3, P1 ^ P2], total: 0 }
    }

    #[inline(always)]
    fn round(lane: u64, word: u64) -> u64 {
        lane.wrapping_add(word.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1)
    }

    /// Feeds `bytes`; every call is length-delimited, so `("ab", "c")` and `("a", "bc")` differ.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            for (i, lane) in self.lanes.iter_mut().enumerate() {
                let mut w = [0u8; 8];
                w.copy_from_slice(&block[i * 8..i * 8 + 8]);
                *lane = Self::round(*lane, u64::from_le_bytes(w));
            }
        }
        let rest = blocks.remainder();
        for (i, chunk) in rest.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.lanes[i] = Self::round(self.lanes[i], u64::from_le_bytes(w) ^ ((chunk.len() as u64) << 56));
        }
        self.total = self.total.wrapping_add(bytes.len() as u64);
        self.lanes[0] = Self::round(self.lanes[0], bytes.len() as u64 ^ P3);
    }

    pub(crate) fn finish(&self) -> u64 {
        let mut h = self.total.wrapping_mul(P3);
        for &lane in &self.lanes {
            h = (h ^ Self::round(0, lane)).wrapping_mul(P1).wrapping_add(P3);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(P2);
        h ^ (h >> 29)
    }
}

#[cfg(test)]
mod tests {
    use super::Checksum;

    fn of(parts: &[&[u8]]) -> u64 {
        let mut c = Checksum::new();
        for p in parts {
            c.update(p);
        }
        c.finish()
    }

    #[test]
    fn every_flipped_bit_changes_the_sum() {
        let data: Vec<u8> = (0..100u8).collect();
        let base = of(&[&data]);
        for i in 0..data.len() {
            for bit in 0..8 {
                let mut d = data.clone();
                d[i] ^= 1 << bit;
                assert_ne!(of(&[&d]), base, "byte {i} bit {bit}");
            }
        }
        assert_ne!(of(&[b"ab", b"c"]), of(&[b"a", b"bc"]));
        assert_ne!(of(&[b""]), of(&[b"", b""]));
    }
}
