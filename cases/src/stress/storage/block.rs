//! The 4 KiB block format the stressor writes and checks: every block carries its offset, the
//! cycle's generation, the generation's noise mixed with the offset, and a checksum.

use crate::stress::kernels::splitmix64;

/// The unit of checking.
pub const BLOCK: usize = 4096;
/// 64-bit words in a block.
pub(super) const WORDS: usize = BLOCK / 8;

/// The random data of one generation: 4 KiB from splitmix64, mixed into every block with the
/// block's offset (so no two blocks are alike and none compresses).
pub struct Noise(Vec<u64>);

impl Noise {
    pub fn new(generation: u64) -> Noise {
        let mut s = generation ^ 0x6877_6365_7274_5354;
        Noise((0..WORDS).map(|_| splitmix64(&mut s)).collect())
    }
}

/// Fill one block: offset, generation, the generation's noise mixed with the offset, and a
/// checksum of all that.
pub fn fill_block(words: &mut [u64], offset: u64, generation: u64, noise: &Noise) {
    debug_assert_eq!(words.len(), WORDS);
    words[0] = offset;
    words[1] = generation;
    let salt = offset.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for (i, (w, n)) in words[2..WORDS - 1]
        .iter_mut()
        .zip(&noise.0[2..WORDS - 1])
        .enumerate()
    {
        *w = n ^ salt.wrapping_add(i as u64);
    }
    words[WORDS - 1] = checksum(&words[..WORDS - 1]);
}

/// What is wrong with a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadBlock {
    /// The contents do not match their checksum.
    Checksum,
    /// A well-formed block of another offset (a misdirected write or read).
    Misplaced(u64),
    /// A well-formed block of another generation (a lost write: stale data).
    Stale(u64),
}

impl BadBlock {
    pub(super) fn describe(&self) -> String {
        match self {
            BadBlock::Checksum => "contents do not match their checksum".into(),
            BadBlock::Misplaced(o) => format!("holds the block written for offset {o}"),
            BadBlock::Stale(g) => format!("holds data of an earlier write (generation {g:#x})"),
        }
    }
}

/// Check one block read back from `offset`.
pub fn check_block(words: &[u64], offset: u64, generation: u64) -> Result<(), BadBlock> {
    if checksum(&words[..WORDS - 1]) != words[WORDS - 1] {
        return Err(BadBlock::Checksum);
    }
    if words[0] != offset {
        return Err(BadBlock::Misplaced(words[0]));
    }
    if words[1] != generation {
        return Err(BadBlock::Stale(words[1]));
    }
    Ok(())
}

/// Four multiply-xor lanes; every step is a bijection of the lane state, so any one changed
/// word always changes the sum.
fn checksum(words: &[u64]) -> u64 {
    const P: [u64; 4] = [
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
        0x27d4_eb2f_1656_67c5,
    ];
    let mut h = [1u64, 2, 3, 4];
    let mut chunks = words.chunks_exact(4);
    for c in &mut chunks {
        for l in 0..4 {
            h[l] = (h[l] ^ c[l]).wrapping_mul(P[l]).rotate_left(31);
        }
    }
    for (l, &w) in chunks.remainder().iter().enumerate() {
        h[l] = (h[l] ^ w).wrapping_mul(P[l]).rotate_left(31);
    }
    let mut z = h[0] ^ h[1].rotate_left(16) ^ h[2].rotate_left(32) ^ h[3].rotate_left(48);
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z ^ (z >> 33)
}

/// A buffer of whole blocks as words.
pub(super) fn block_words(buf: &[u8]) -> &[u64] {
    // SAFETY: buffers come from page-aligned mappings and are whole blocks.
    unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u64>(), buf.len() / 8) }
}

/// A buffer of whole blocks as words, to fill.
pub(super) fn block_words_mut(buf: &mut [u8]) -> &mut [u64] {
    // SAFETY: as block_words.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u64>(), buf.len() / 8) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(offset: u64, generation: u64) -> Vec<u64> {
        let mut w = vec![0u64; WORDS];
        fill_block(&mut w, offset, generation, &Noise::new(generation));
        w
    }

    #[test]
    fn a_block_checks_against_its_own_offset_and_generation() {
        let b = block(8192, 7);
        assert_eq!(check_block(&b, 8192, 7), Ok(()));
        assert_eq!(check_block(&b, 4096, 7), Err(BadBlock::Misplaced(8192)));
        assert_eq!(check_block(&b, 8192, 8), Err(BadBlock::Stale(7)));
        assert_ne!(block(8192, 7), block(8192, 8));
        assert_ne!(block(8192, 7), block(4096, 7));
    }

    #[test]
    fn every_corrupted_byte_is_caught() {
        let b = block(1 << 20, 99);
        let bytes: Vec<u8> = b.iter().flat_map(|w| w.to_le_bytes()).collect();
        for i in (0..BLOCK).step_by(37).chain([0, 8, BLOCK - 8, BLOCK - 1]) {
            let mut c = bytes.clone();
            c[i] ^= 0x10;
            let words: Vec<u64> = c
                .chunks_exact(8)
                .map(|x| u64::from_le_bytes(x.try_into().expect("8 bytes")))
                .collect();
            assert_eq!(
                check_block(&words, 1 << 20, 99),
                Err(BadBlock::Checksum),
                "byte {i}"
            );
        }
    }
}
