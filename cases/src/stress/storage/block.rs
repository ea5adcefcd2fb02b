//! The 4 KiB block format the stressor writes and checks: every block carries its offset, the
//! cycle's generation, the generation's noise mixed with the offset, and a tag of offset and
//! generation. Reading checks every word against what was written there.
//!
//! Filling and checking are a few vector instructions a word (no chained hash): a single
//! thread fills or checks well over 10 GB/s, so the CPU never caps a fast disk's figure (a
//! multiply-chain checksum cost about 4 GB/s a core, under a PCIe 4 NVMe's sequential rate).

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

/// The last word of a block: offset and generation mixed (so a whole block of another offset
/// or generation is told from a corrupted one).
fn tag(offset: u64, generation: u64) -> u64 {
    let mut s = offset ^ generation.rotate_left(32) ^ 0x7461_6762_6c6f_636b;
    splitmix64(&mut s)
}

/// The salt of a block's words.
fn salt(offset: u64) -> u64 {
    offset.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Fill one block: offset, generation, the generation's noise mixed with the offset, and the
/// tag of offset and generation.
pub fn fill_block(words: &mut [u64], offset: u64, generation: u64, noise: &Noise) {
    debug_assert_eq!(words.len(), WORDS);
    words[0] = offset;
    words[1] = generation;
    let salt = salt(offset);
    for (i, (w, n)) in words[2..WORDS - 1]
        .iter_mut()
        .zip(&noise.0[2..WORDS - 1])
        .enumerate()
    {
        *w = n ^ salt.wrapping_add(i as u64);
    }
    words[WORDS - 1] = tag(offset, generation);
}

/// Whether a block is exactly what [`fill_block`] writes for `offset` and `generation`.
fn is_block(words: &[u64], offset: u64, generation: u64, noise: &Noise) -> bool {
    let salt = salt(offset);
    let mut diff = (words[0] ^ offset)
        | (words[1] ^ generation)
        | (words[WORDS - 1] ^ tag(offset, generation));
    for (i, (w, n)) in words[2..WORDS - 1]
        .iter()
        .zip(&noise.0[2..WORDS - 1])
        .enumerate()
    {
        diff |= w ^ n ^ salt.wrapping_add(i as u64);
    }
    diff == 0
}

/// What is wrong with a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadBlock {
    /// The contents differ from what was written, and are no whole block of another offset or
    /// generation either.
    Corrupted,
    /// A well-formed block of another offset (a misdirected write or read).
    Misplaced(u64),
    /// A well-formed block of another generation (a lost write: stale data).
    Stale(u64),
}

impl BadBlock {
    pub(super) fn describe(&self) -> String {
        match self {
            BadBlock::Corrupted => "contents differ from what was written".into(),
            BadBlock::Misplaced(o) => format!("holds the block written for offset {o}"),
            BadBlock::Stale(g) => format!("holds data of an earlier write (generation {g:#x})"),
        }
    }
}

/// Check one block read back from `offset`, written with `generation` and its `noise`: every
/// word is compared.
pub fn check_block(
    words: &[u64],
    offset: u64,
    generation: u64,
    noise: &Noise,
) -> Result<(), BadBlock> {
    if is_block(words, offset, generation, noise) {
        return Ok(());
    }
    // A whole block of another offset or generation?
    let (o, g) = (words[0], words[1]);
    if (o, g) != (offset, generation) && words[WORDS - 1] == tag(o, g) {
        let other;
        let n = if g == generation {
            noise
        } else {
            other = Noise::new(g);
            &other
        };
        if is_block(words, o, g, n) {
            return Err(if o != offset {
                BadBlock::Misplaced(o)
            } else {
                BadBlock::Stale(g)
            });
        }
    }
    Err(BadBlock::Corrupted)
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
        let n7 = Noise::new(7);
        assert_eq!(check_block(&b, 8192, 7, &n7), Ok(()));
        assert_eq!(
            check_block(&b, 4096, 7, &n7),
            Err(BadBlock::Misplaced(8192))
        );
        assert_eq!(
            check_block(&b, 8192, 8, &Noise::new(8)),
            Err(BadBlock::Stale(7))
        );
        assert_eq!(
            check_block(&b, 4096, 8, &Noise::new(8)),
            Err(BadBlock::Misplaced(8192))
        );
        // Zeros (a hole, a lost first write) and garbage are corrupted.
        assert_eq!(
            check_block(&vec![0u64; WORDS], 0, 7, &n7),
            Err(BadBlock::Corrupted)
        );
        let garbage: Vec<u64> = (0..WORDS as u64)
            .map(|i| i.wrapping_mul(0x1234_5678_9abc_def1))
            .collect();
        assert_eq!(
            check_block(&garbage, 8192, 7, &n7),
            Err(BadBlock::Corrupted)
        );
        // A block with another block's header but its own body is corrupted, not misplaced.
        let mut forged = block(8192, 7);
        forged[0] = 4096;
        forged[WORDS - 1] = tag(4096, 7);
        assert_eq!(check_block(&forged, 8192, 7, &n7), Err(BadBlock::Corrupted));
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
                check_block(&words, 1 << 20, 99, &Noise::new(99)),
                Err(BadBlock::Corrupted),
                "byte {i}"
            );
        }
    }
}
