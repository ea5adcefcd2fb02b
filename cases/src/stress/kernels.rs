//! Known-answer CPU kernels: every result is compared bit for bit with a reference.
//!
//! * **Integer hash chains**: [`LANES`] independent chains of [`STEPS`] steps, each step a
//!   64×64→128-bit multiply folded to 64 bits, xor-shifts, a second multiply and a rotate
//!   (integer multiplier, shifter and ALUs).
//! * **FMA matrix product**: C = A·B of [`N`]×[`N`] doubles, each C\[i]\[j] accumulated with
//!   fused multiply-adds in ascending k from +0.0. A fused multiply-add rounds once (IEEE 754
//!   `fusedMultiplyAdd`), so the same operations in the same order give the same bits on every
//!   CPU and every vector width: the scalar reference (`f64::mul_add`, the hardware FMA or
//!   libm's correctly rounded `fma`) and the AVX2, AVX-512 and NEON kernels must agree exactly.
//!   Vector kernels only change which C elements are computed side by side, never the order of
//!   the operations that make one element.
//!
//! Inputs are deterministic ([`Inputs::new`], from splitmix64), [`SETS`] of them, so the whole
//! reference has one digest known at build time ([`REFERENCE_DIGEST`]): a machine whose own
//! reference computation goes wrong is caught before any comparison is trusted.
//!
//! The vector kernel is the widest present at run time ([`Kernel::widest`]): AVX-512F, else
//! AVX2+FMA on x86_64 (`is_x86_feature_detected!`); NEON (always present) on aarch64. SVE has
//! no stable Rust intrinsics, so aarch64 machines with SVE run the NEON kernel. AVX-512
//! intrinsics need Rust 1.89; `build.rs` enables them (`cfg(hwcert_avx512)`) only on such a
//! compiler, and older ones fall back to AVX2.

/// Matrix dimension (A, B and C are 32 KiB each: the product runs from L1/L2).
pub const N: usize = 64;
/// Input sets, used in turn.
pub const SETS: usize = 4;
/// Independent hash chains per round.
pub const LANES: usize = 4;
/// Steps per chain per round.
pub const STEPS: usize = 4096;
/// Fused multiply-adds in one round.
pub const FMAS_PER_ROUND: u64 = (N * N * N) as u64;
/// Hash-chain steps in one round.
pub const MIXES_PER_ROUND: u64 = (LANES * STEPS) as u64;

/// The digest of the reference results of [`Inputs::new`] (see [`Reference::digest`]).
pub const REFERENCE_DIGEST: u64 = 0xddf3_d11b_b276_ddb2;

/// The deterministic inputs.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Per set, A row-major.
    pub a: Vec<Vec<f64>>,
    /// Per set, B row-major.
    pub b: Vec<Vec<f64>>,
    /// Per set, the chain seeds.
    pub seeds: Vec<[u64; LANES]>,
}

impl Inputs {
    pub fn new() -> Inputs {
        let mut s = 0x6877_6365_7274_0001u64; // "hwcert" 1
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut seeds = Vec::new();
        for _ in 0..SETS {
            a.push((0..N * N).map(|_| unit(splitmix64(&mut s))).collect());
            b.push((0..N * N).map(|_| unit(splitmix64(&mut s))).collect());
            seeds.push([(); LANES].map(|_| splitmix64(&mut s)));
        }
        Inputs { a, b, seeds }
    }
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs::new()
    }
}

/// The expected results, computed once with the scalar kernels.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Per set, C = A·B.
    pub c: Vec<Vec<f64>>,
    /// Per set, the chain ends.
    pub chains: Vec<[u64; LANES]>,
}

impl Reference {
    pub fn compute(inputs: &Inputs) -> Reference {
        let mut c = Vec::new();
        let mut chains = Vec::new();
        for s in 0..SETS {
            let mut m = vec![0.0; N * N];
            matmul_scalar(&inputs.a[s], &inputs.b[s], &mut m);
            c.push(m);
            chains.push(hash_chain(inputs.seeds[s], STEPS));
        }
        Reference { c, chains }
    }

    /// FNV-1a over every result bit pattern (little-endian), the matrices then the chains.
    pub fn digest(&self) -> u64 {
        let words = self
            .c
            .iter()
            .flat_map(|m| m.iter().map(|x| x.to_bits()))
            .chain(self.chains.iter().flatten().copied());
        let bytes: Vec<u8> = words.flat_map(u64::to_le_bytes).collect();
        hwsys::hash::fnv1a64(&bytes)
    }
}

pub(crate) fn splitmix64(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A double in [-1, 1) from 53 random bits (exact).
fn unit(x: u64) -> f64 {
    ((x >> 11) as f64) * (1.0 / (1u64 << 52) as f64) - 1.0
}

/// One step of a hash chain.
#[inline(always)]
fn mix(x: u64, step: u64) -> u64 {
    let p = u128::from(x ^ step) * u128::from(0xd1b5_4a32_d192_ed03u64);
    let z = (p as u64) ^ ((p >> 64) as u64);
    let z = (z ^ (z >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    (z ^ (z >> 32)).rotate_left(17)
}

/// [`LANES`] chains of `steps` steps from `seeds`.
#[inline(never)]
pub fn hash_chain(seeds: [u64; LANES], steps: usize) -> [u64; LANES] {
    let mut x = seeds;
    for s in 0..steps as u64 {
        for (l, v) in x.iter_mut().enumerate() {
            *v = mix(*v, s.wrapping_add(l as u64));
        }
    }
    x
}

/// The scalar FMA matrix product (the reference).
#[inline(never)]
pub fn matmul_scalar(a: &[f64], b: &[f64], c: &mut [f64]) {
    assert!(a.len() == N * N && b.len() == N * N && c.len() == N * N);
    for i in 0..N {
        for j in 0..N {
            let mut acc = 0.0f64;
            for k in 0..N {
                acc = a[i * N + k].mul_add(b[k * N + j], acc);
            }
            c[i * N + j] = acc;
        }
    }
}

/// Which implementation of the matrix product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Scalar,
    Avx2,
    Avx512,
    Neon,
}

impl Kernel {
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar-fma",
            Kernel::Avx2 => "avx2-fma",
            Kernel::Avx512 => "avx512f",
            Kernel::Neon => "neon",
        }
    }

    /// `auto`, `scalar`, `avx2`, `avx512`, `neon`; `auto` is [`Kernel::widest`].
    pub fn parse(s: &str) -> Option<Kernel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Kernel::widest()),
            "scalar" | "scalar-fma" => Some(Kernel::Scalar),
            "avx2" | "avx2-fma" => Some(Kernel::Avx2),
            "avx512" | "avx512f" | "avx-512" => Some(Kernel::Avx512),
            "neon" => Some(Kernel::Neon),
            _ => None,
        }
    }

    /// Whether this CPU (and this build) can run it.
    pub fn available(self) -> bool {
        match self {
            Kernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(all(target_arch = "x86_64", hwcert_avx512))]
            Kernel::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The widest vector kernel this CPU runs.
    pub fn widest() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2, Kernel::Neon]
            .into_iter()
            .find(|k| k.available())
            .unwrap_or(Kernel::Scalar)
    }

    /// C = A·B. Falls back to the scalar kernel when this one is not [`available`](Self::available).
    pub fn matmul(self, a: &[f64], b: &[f64], c: &mut [f64]) {
        assert!(a.len() == N * N && b.len() == N * N && c.len() == N * N);
        if !self.available() {
            return matmul_scalar(a, b, c);
        }
        match self {
            Kernel::Scalar => matmul_scalar(a, b, c),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: avx2 and fma are present (checked above); slices are N×N.
            Kernel::Avx2 => unsafe { x86::matmul_avx2(a, b, c) },
            #[cfg(all(target_arch = "x86_64", hwcert_avx512))]
            // SAFETY: avx512f is present (checked above); slices are N×N.
            Kernel::Avx512 => unsafe { x86::matmul_avx512(a, b, c) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: neon is present (checked above); slices are N×N.
            Kernel::Neon => unsafe { arm::matmul_neon(a, b, c) },
            #[allow(unreachable_patterns)]
            _ => matmul_scalar(a, b, c),
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::N;
    use std::arch::x86_64::*;

    /// 4 rows × 8 columns per block: 8 accumulators (enough to cover FMA latency on two pipes).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn matmul_avx2(a: &[f64], b: &[f64], c: &mut [f64]) {
        let (a, b, c) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        // SAFETY: every index stays below N*N: i0+r < N, j0+7 < N, k < N.
        unsafe {
            for i0 in (0..N).step_by(4) {
                for j0 in (0..N).step_by(8) {
                    let mut acc = [[_mm256_setzero_pd(); 2]; 4];
                    for k in 0..N {
                        let b0 = _mm256_loadu_pd(b.add(k * N + j0));
                        let b1 = _mm256_loadu_pd(b.add(k * N + j0 + 4));
                        for (r, acc) in acc.iter_mut().enumerate() {
                            let av = _mm256_broadcast_sd(&*a.add((i0 + r) * N + k));
                            acc[0] = _mm256_fmadd_pd(av, b0, acc[0]);
                            acc[1] = _mm256_fmadd_pd(av, b1, acc[1]);
                        }
                    }
                    for (r, acc) in acc.iter().enumerate() {
                        _mm256_storeu_pd(c.add((i0 + r) * N + j0), acc[0]);
                        _mm256_storeu_pd(c.add((i0 + r) * N + j0 + 4), acc[1]);
                    }
                }
            }
        }
    }

    /// 4 rows × 16 columns per block with 512-bit vectors.
    #[cfg(hwcert_avx512)]
    #[allow(clippy::incompatible_msrv)] // gated by build.rs on rustc ≥ 1.89
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn matmul_avx512(a: &[f64], b: &[f64], c: &mut [f64]) {
        let (a, b, c) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        // SAFETY: every index stays below N*N: i0+r < N, j0+15 < N, k < N.
        unsafe {
            for i0 in (0..N).step_by(4) {
                for j0 in (0..N).step_by(16) {
                    let mut acc = [[_mm512_setzero_pd(); 2]; 4];
                    for k in 0..N {
                        let b0 = _mm512_loadu_pd(b.add(k * N + j0));
                        let b1 = _mm512_loadu_pd(b.add(k * N + j0 + 8));
                        for (r, acc) in acc.iter_mut().enumerate() {
                            let av = _mm512_set1_pd(*a.add((i0 + r) * N + k));
                            acc[0] = _mm512_fmadd_pd(av, b0, acc[0]);
                            acc[1] = _mm512_fmadd_pd(av, b1, acc[1]);
                        }
                    }
                    for (r, acc) in acc.iter().enumerate() {
                        _mm512_storeu_pd(c.add((i0 + r) * N + j0), acc[0]);
                        _mm512_storeu_pd(c.add((i0 + r) * N + j0 + 8), acc[1]);
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use super::N;
    use std::arch::aarch64::*;

    /// 4 rows × 4 columns per block with 128-bit vectors: 8 accumulators.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn matmul_neon(a: &[f64], b: &[f64], c: &mut [f64]) {
        let (a, b, c) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        // SAFETY: every index stays below N*N: i0+r < N, j0+3 < N, k < N.
        unsafe {
            for i0 in (0..N).step_by(4) {
                for j0 in (0..N).step_by(4) {
                    let mut acc = [[vdupq_n_f64(0.0); 2]; 4];
                    for k in 0..N {
                        let b0 = vld1q_f64(b.add(k * N + j0));
                        let b1 = vld1q_f64(b.add(k * N + j0 + 2));
                        for (r, acc) in acc.iter_mut().enumerate() {
                            let av = vdupq_n_f64(*a.add((i0 + r) * N + k));
                            // vfmaq_f64(acc, x, y) = acc + x·y, rounded once.
                            acc[0] = vfmaq_f64(acc[0], av, b0);
                            acc[1] = vfmaq_f64(acc[1], av, b1);
                        }
                    }
                    for (r, acc) in acc.iter().enumerate() {
                        vst1q_f64(c.add((i0 + r) * N + j0), acc[0]);
                        vst1q_f64(c.add((i0 + r) * N + j0 + 2), acc[1]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_matches_the_built_in_digest() {
        let r = Reference::compute(&Inputs::new());
        assert_eq!(r.digest(), REFERENCE_DIGEST, "digest {:#018x}", r.digest());
    }

    #[test]
    fn every_available_kernel_agrees_bit_for_bit() {
        let inputs = Inputs::new();
        let reference = Reference::compute(&inputs);
        for k in [Kernel::Scalar, Kernel::Avx2, Kernel::Avx512, Kernel::Neon] {
            if !k.available() {
                eprintln!("{}: not on this CPU, skipped", k.name());
                continue;
            }
            for s in 0..SETS {
                let mut c = vec![f64::NAN; N * N];
                k.matmul(&inputs.a[s], &inputs.b[s], &mut c);
                let same = c
                    .iter()
                    .zip(&reference.c[s])
                    .all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{} differs on set {s}", k.name());
            }
        }
    }

    #[test]
    fn a_flipped_bit_changes_the_digest() {
        let mut r = Reference::compute(&Inputs::new());
        r.c[2][100] = f64::from_bits(r.c[2][100].to_bits() ^ 1);
        assert_ne!(r.digest(), REFERENCE_DIGEST);
        let mut r = Reference::compute(&Inputs::new());
        r.chains[0][3] ^= 1 << 40;
        assert_ne!(r.digest(), REFERENCE_DIGEST);
    }

    #[test]
    fn fma_is_not_mul_then_add() {
        // Proof that the reference really fuses: (1 + 2^-30)² − 1 = 2^-29 + 2^-60 exactly, but
        // the separately rounded square loses the 2^-60.
        let x = 1.0 + 2f64.powi(-30);
        assert_eq!(x.mul_add(x, -1.0), 2f64.powi(-29) + 2f64.powi(-60));
        assert_eq!(x * x - 1.0, 2f64.powi(-29));
    }

    #[test]
    fn kernels_parse() {
        assert_eq!(Kernel::parse("scalar"), Some(Kernel::Scalar));
        assert_eq!(Kernel::parse("AVX2"), Some(Kernel::Avx2));
        assert_eq!(Kernel::parse("auto"), Some(Kernel::widest()));
        assert_eq!(Kernel::parse("sse"), None);
    }
}
