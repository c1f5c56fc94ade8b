//! The fully connected layers' matrix products, computed directly in `gemm`'s order of summation.
//!
//! `gemm` (the kernel candle calls, which [`crate::ops`] called for every product) sums each
//! output value on its packed path as fused multiply-add chains over blocks of the depth: each
//! block's chain starts from zero, and the blocks are added into the output in order. The block is
//! 512 deep when both output dimensions are at most 64; otherwise `gemm` derives it from the L1
//! data cache (1,024 for a 48 KiB, 12-way cache, the machine the current numbers come from; 512 for
//! a 32 KiB, 8-way one, which some earlier runs had), then splits the depth into equal blocks of
//! at most that. So for outputs with a dimension over 64 and a depth over 512 its bits depended on
//! the processor's cache.
//!
//! [`product`] computes the same chains in the same order with the depth block fixed at the
//! measuring machines' value ([`depth_block`]), so it gives `gemm`'s bits wherever `gemm` takes
//! that path there ([`takes_packed_path`]; tested against `gemm`), the same bits on every
//! processor, and it runs 16-lane AVX-512 registers where the processor has them (`gemm` 0.19
//! runs AVX2 unless built with its `x86-v4` feature, which would change its blocks).
//!
//! **Layout.** One operand is read a row of up to 32 values at a time into registers ("lanes"),
//! the other one value at a time, broadcast. Which is which, `a b` or `(b^T a^T)^T`, is chosen by
//! a cost count ([`transposed_is_cheaper`]): lanes wasted past a dimension's end against the copies
//! that make the lane operand's rows contiguous. A fully connected layer's forward pass keeps its
//! 36 outputs in the lanes (36 of 48 used) rather than copy the batch transposed; its weight
//! gradient puts the layer's inputs in the lanes, which needs no copy.

use std::mem::MaybeUninit;

use crate::kernel::{Kernel, LANES};
use crate::ops::Operand;

/// `gemm`'s depth block for outputs with a dimension over 64, on a 48 KiB, 12-way L1 data cache
/// (`gemm_common::cache::kernel_params`: the larger of 512 and 64 cache sets' lines times the
/// associativity rounded up to a power of two).
const LARGE_DEPTH: usize = 1024;

/// The depth of the blocks each output's sum is split into, for an `m x n` output of depth `k`:
/// `gemm`'s rule (see the module notes). The last block holds the rest.
pub(crate) fn depth_block(m: usize, n: usize, k: usize) -> usize {
    if m <= 64 && n <= 64 {
        k.min(512)
    } else {
        let most = LARGE_DEPTH.min(k);
        k.div_ceil(k.div_ceil(most))
    }
}

/// Whether `gemm` sums `a b` (written row-major, one thread) on its packed path, where every
/// output is a chain in [`depth_block`]s. Its other paths: depth 1 or 2; a single row or column
/// (matrix-vector kernels); and, for outputs of at most 256 values whose operands both run along
/// the depth contiguously, "horizontal" kernels that split one sum across lanes.
pub(crate) fn takes_packed_path(a: Operand, b: Operand) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    m >= 2 && n >= 2 && k >= 3 && !(b.rs == 1 && a.cs == 1 && m * n <= 256)
}

/// `a b` as `[a.rows, b.cols]` row-major, every value written once, summed as `gemm`'s packed
/// path sums it (see the module notes).
pub(crate) fn product(a: Operand, b: Operand) -> Vec<f32> {
    product_with(Kernel::best(), a, b)
}

pub(crate) fn product_with(kernel: Kernel, a: Operand, b: Operand) -> Vec<f32> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "product: operands do not chain");
    if m == 0 || n == 0 || k == 0 {
        return vec![0.0; m * n];
    }
    let depth = depth_block(m, n, k);
    if transposed_is_cheaper(a, b) {
        // out^T = b^T a^T: the lanes run over a's rows.
        let lanes = contiguous_rows(a.t());
        let panel = Panel {
            s: b.t(),
            l: lanes.as_operand(),
            depth,
        };
        let t = panel.run(kernel);
        transposed(Operand::dense(&t, n, m))
    } else {
        let lanes = contiguous_rows(b);
        let panel = Panel {
            s: a,
            l: lanes.as_operand(),
            depth,
        };
        panel.run(kernel)
    }
}

/// Whether `(b^T a^T)^T` costs less than `a b`, counting multiply-add instructions on 16-lane
/// registers (lanes past a dimension's end are wasted), 2 per value copied to make the lane
/// operand's rows contiguous, and 2 per value of the output transposed back. Which is cheaper
/// changes the speed only: each output is the same chain either way.
fn transposed_is_cheaper(a: Operand, b: Operand) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let copy = |x: Operand| {
        if rows_contiguous(x) {
            0
        } else {
            2 * x.rows * x.cols
        }
    };
    let direct = m * n.div_ceil(LANES) * k + copy(b);
    let transposed = n * m.div_ceil(LANES) * k + copy(a.t()) + 2 * m * n;
    transposed < direct
}

/// A matrix whose rows are contiguous: borrowed as it is when they already are, else copied
/// row-major.
enum Rows<'a> {
    Borrowed(Operand<'a>),
    Owned(Vec<f32>, usize, usize),
}

impl Rows<'_> {
    fn as_operand(&self) -> Operand<'_> {
        match self {
            Rows::Borrowed(o) => *o,
            Rows::Owned(v, rows, cols) => Operand::dense(v, *rows, *cols),
        }
    }
}

/// Whether each row's values lie side by side.
fn rows_contiguous(x: Operand) -> bool {
    x.cs == 1 || x.cols == 1
}

fn contiguous_rows(x: Operand) -> Rows {
    if rows_contiguous(x) {
        return Rows::Borrowed(Operand { cs: 1, ..x });
    }
    Rows::Owned(transposed(x.t()), x.rows, x.cols)
}

/// `x^T`, row-major, copied in tiles so that both sides' cache lines are used whole.
fn transposed(x: Operand) -> Vec<f32> {
    const TILE: usize = 16;
    let (rows, cols) = (x.rows, x.cols);
    let mut out = vec![0.0f32; rows * cols];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = x.data[r * x.rs + c * x.cs];
                }
            }
        }
    }
    out
}

/// `out[r, c] = sum_p s[r, p] l[p, c]` (`out` row-major, `l`'s rows contiguous), each sum one
/// fused multiply-add chain per depth block, the blocks added into `out` in order.
struct Panel<'a> {
    s: Operand<'a>,
    l: Operand<'a>,
    depth: usize,
}

impl Panel<'_> {
    /// The output, `[s.rows, l.cols]` row-major, every value written once by the first depth
    /// block (never zero-filled first) and added to by the others.
    fn run(&self, kernel: Kernel) -> Vec<f32> {
        let (rows, cols, k) = (self.s.rows, self.l.cols, self.s.cols);
        assert_eq!(k, self.l.rows);
        assert_eq!(self.l.cs, 1);
        assert!(
            k > 0,
            "a product of depth 0 has no first block to write its output"
        );
        let mut output = Vec::with_capacity(rows * cols);
        let out = &mut output.spare_capacity_mut()[..rows * cols];
        // Every value read lies inside the operands' slices.
        assert!(rows == 0 || (rows - 1) * self.s.rs + (k - 1) * self.s.cs < self.s.data.len());
        assert!(cols == 0 || (k - 1) * self.l.rs + cols <= self.l.data.len());
        debug_assert!(Kernel::available().contains(&kernel));
        let (most_rows, spans) = kernel.dense_block();
        let mut c0 = 0;
        while c0 < cols {
            let width = (cols - c0).min(spans * LANES);
            let mut r0 = 0;
            while r0 < rows {
                let p = (rows - r0).min(most_rows);
                let block = Block {
                    panel: self,
                    r0,
                    c0,
                    width,
                };
                let mut p0 = 0;
                while p0 < k {
                    let p1 = (p0 + self.depth).min(k);
                    let first = p0 == 0;
                    if width > LANES {
                        with_count!(p, P in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] =>
                            block.sums::<P, 2>(kernel, p0, p1, first, out));
                    } else {
                        with_count!(p, P in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] =>
                            block.sums::<P, 1>(kernel, p0, p1, first, out));
                    }
                    p0 = p1;
                }
                r0 += p;
            }
            c0 += width;
        }
        // SAFETY: the blocks tile the output, and each wrote all its values in its first depth
        // block (`first`, k > 0).
        unsafe { output.set_len(rows * cols) };
        output
    }
}

/// `P` rows from `r0` by `width` columns from `c0` of a [`Panel`]'s output.
struct Block<'a> {
    panel: &'a Panel<'a>,
    r0: usize,
    c0: usize,
    width: usize,
}

impl Block<'_> {
    /// The chains over depths `p0..p1`, stored into `out` (`first`) or added to it, with `W`
    /// lane blocks of [`LANES`] per row (`width` of their lanes used).
    #[inline(always)]
    fn sums<const P: usize, const W: usize>(
        &self,
        kernel: Kernel,
        p0: usize,
        p1: usize,
        first: bool,
        out: &mut [MaybeUninit<f32>],
    ) {
        let cols = self.panel.l.cols;
        assert!(self.r0 + P <= self.panel.s.rows && self.c0 + self.width <= cols);
        assert!(self.width <= W * LANES && p1 <= self.panel.s.cols);
        match kernel {
            Kernel::Portable => self.sums_portable::<P, W>(p0, p1, first, out),
            // SAFETY: `Avx2` and `Avx512` are only chosen where the processor has them; reads lie
            // inside the operands (asserted by `Panel::run` and above) and writes inside `out`.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { self.sums_avx2::<P, W>(p0, p1, first, out) },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { self.sums_avx512::<P, W>(p0, p1, first, out) },
        }
    }

    /// The lanes of lane block `w` in use.
    #[inline(always)]
    fn lanes(&self, w: usize) -> usize {
        self.width.saturating_sub(w * LANES).min(LANES)
    }

    #[inline(always)]
    fn sums_portable<const P: usize, const W: usize>(
        &self,
        p0: usize,
        p1: usize,
        first: bool,
        out: &mut [MaybeUninit<f32>],
    ) {
        let (s, l) = (self.panel.s, self.panel.l);
        let mut acc = [[[0.0f32; LANES]; W]; P];
        for p in p0..p1 {
            let lp = &l.data[p * l.rs + self.c0..];
            for (r, ar) in acc.iter_mut().enumerate() {
                let sv = s.data[(self.r0 + r) * s.rs + p * s.cs];
                for (w, aw) in ar.iter_mut().enumerate() {
                    for j in 0..self.lanes(w) {
                        aw[j] = sv.mul_add(lp[w * LANES + j], aw[j]);
                    }
                }
            }
        }
        let cols = l.cols;
        for (r, ar) in acc.iter().enumerate() {
            let o = &mut out[(self.r0 + r) * cols + self.c0..];
            for (w, aw) in ar.iter().enumerate() {
                for j in 0..self.lanes(w) {
                    let v = &mut o[w * LANES + j];
                    // SAFETY: after the first depth block every value of the block is written.
                    let sum = if first {
                        aw[j]
                    } else {
                        (unsafe { v.assume_init() }) + aw[j]
                    };
                    v.write(sum);
                }
            }
        }
    }

    /// Lane block `w` as two 8-lane registers; a partial block reads and writes only its lanes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sums_avx2<const P: usize, const W: usize>(
        &self,
        p0: usize,
        p1: usize,
        first: bool,
        out: &mut [MaybeUninit<f32>],
    ) {
        use std::arch::x86_64::*;
        let (s, l) = (self.panel.s, self.panel.l);
        // Masks of the lanes in use, per 8-lane half of each lane block.
        let mask = |lanes: usize| {
            let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes as i32), idx)
        };
        let masks: [[__m256i; 2]; W] = std::array::from_fn(|w| {
            let n = self.lanes(w);
            [mask(n.min(8)), mask(n.saturating_sub(8))]
        });
        let mut acc = [[[_mm256_setzero_ps(); 2]; W]; P];
        let (sp, lp) = (s.data.as_ptr(), l.data.as_ptr());
        for p in p0..p1 {
            // SAFETY (this block): every lane read is masked to the columns of `l` in use, and
            // the caller checked the rows and depths.
            unsafe {
                let row = lp.add(p * l.rs + self.c0);
                let lv: [[__m256; 2]; W] = std::array::from_fn(|w| {
                    [
                        _mm256_maskload_ps(row.add(w * LANES), masks[w][0]),
                        // The upper half may start past the end of `l` when its
                        // mask is empty: its address is formed without `add`'s
                        // in-bounds promise and never read.
                        _mm256_maskload_ps(row.wrapping_add(w * LANES + 8), masks[w][1]),
                    ]
                });
                for r in 0..P {
                    let sv = _mm256_broadcast_ss(&*sp.add((self.r0 + r) * s.rs + p * s.cs));
                    for w in 0..W {
                        acc[r][w][0] = _mm256_fmadd_ps(sv, lv[w][0], acc[r][w][0]);
                        acc[r][w][1] = _mm256_fmadd_ps(sv, lv[w][1], acc[r][w][1]);
                    }
                }
            }
        }
        let cols = l.cols;
        for r in 0..P {
            for w in 0..W {
                for h in 0..2 {
                    // SAFETY: masked to the columns in use of a row of `out` (an empty upper half
                    // may point past it, as above, and is neither read nor written).
                    unsafe {
                        let o = out
                            .as_mut_ptr()
                            .cast::<f32>()
                            .wrapping_add((self.r0 + r) * cols + self.c0 + w * LANES + 8 * h);
                        let m = masks[w][h];
                        let v = if first {
                            acc[r][w][h]
                        } else {
                            _mm256_add_ps(_mm256_maskload_ps(o, m), acc[r][w][h])
                        };
                        _mm256_maskstore_ps(o, m, v);
                    }
                }
            }
        }
    }

    /// Lane block `w` as one 16-lane register; a partial block reads and writes only its lanes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn sums_avx512<const P: usize, const W: usize>(
        &self,
        p0: usize,
        p1: usize,
        first: bool,
        out: &mut [MaybeUninit<f32>],
    ) {
        use std::arch::x86_64::*;
        let (s, l) = (self.panel.s, self.panel.l);
        let masks: [__mmask16; W] = std::array::from_fn(|w| match self.lanes(w) {
            0 => 0,
            n => (u32::MAX >> (32 - n)) as __mmask16,
        });
        let mut acc = [[_mm512_setzero_ps(); W]; P];
        let (sp, lp) = (s.data.as_ptr(), l.data.as_ptr());
        for p in p0..p1 {
            // SAFETY (this block): every lane read is masked to the columns of `l` in use, and
            // the caller checked the rows and depths.
            unsafe {
                let row = lp.add(p * l.rs + self.c0);
                let lv: [__m512; W] =
                    std::array::from_fn(|w| _mm512_maskz_loadu_ps(masks[w], row.add(w * LANES)));
                for r in 0..P {
                    let sv = _mm512_set1_ps(*sp.add((self.r0 + r) * s.rs + p * s.cs));
                    for w in 0..W {
                        acc[r][w] = _mm512_fmadd_ps(sv, lv[w], acc[r][w]);
                    }
                }
            }
        }
        let cols = l.cols;
        for r in 0..P {
            for w in 0..W {
                // SAFETY: masked to the columns in use of a row of `out`.
                unsafe {
                    let o = out
                        .as_mut_ptr()
                        .cast::<f32>()
                        .add((self.r0 + r) * cols + self.c0 + w * LANES);
                    let v = if first {
                        acc[r][w]
                    } else {
                        _mm512_add_ps(_mm512_maskz_loadu_ps(masks[w], o), acc[r][w])
                    };
                    _mm512_mask_storeu_ps(o, masks[w], v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition: per output, fused multiply-add chains from zero over blocks of `depth`,
    /// the blocks added in order.
    fn reference(a: Operand, b: Operand, depth: usize) -> Vec<f32> {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let mut out = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut total = 0.0f32;
                for (block, p0) in (0..k).step_by(depth).enumerate() {
                    let mut acc = 0.0f32;
                    for p in p0..(p0 + depth).min(k) {
                        acc = a.data[i * a.rs + p * a.cs].mul_add(b.data[p * b.rs + j * b.cs], acc);
                    }
                    total = if block == 0 { acc } else { total + acc };
                }
                out[i * n + j] = total;
            }
        }
        out
    }

    /// Values of mixed sign and magnitude, from a seed.
    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * if x & 1 == 0 { 3.0 } else { 0.01 }
            })
            .collect()
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Layer shapes `x [m, k] W [k, n]` of the lab's networks (9x9 to 15x15 mazes, minibatches of
    /// 16 to 512, the heads) and odd ones (partial lane blocks, depth blocks of both rules).
    const SHAPES: [(usize, usize, usize); 10] = [
        (64, 1296, 36),
        (16, 1296, 36),
        (512, 1296, 36),
        (64, 3600, 36),
        (64, 36, 4),
        (7, 33, 19),
        (13, 600, 70),
        (2, 3, 2),
        (70, 2100, 70),
        (9, 513, 40),
    ];

    /// `f(a, b)` for the three products of a fully connected layer `x [m, k] W [k, n]`: forward,
    /// input gradient (`g W^T`) and weight gradient (`x^T g`), with the transposed views the
    /// backward pass uses, where `gemm` takes its packed path.
    fn layer_products(
        m: usize,
        k: usize,
        n: usize,
        seed: u64,
        mut f: impl FnMut(Operand, Operand),
    ) {
        let x = values(m * k, seed);
        let w = values(k * n, seed + 1);
        let g = values(m * n, seed + 2);
        let xo = Operand::dense(&x, m, k);
        let wo = Operand::dense(&w, k, n);
        let go = Operand::dense(&g, m, n);
        for (a, b) in [(xo, wo), (go, wo.t()), (xo.t(), go)] {
            if takes_packed_path(a, b) {
                f(a, b);
            }
        }
    }

    #[test]
    fn depth_blocks_follow_gemm_rule() {
        // Both output dimensions at most 64: blocks of 512, the rest last.
        assert_eq!(depth_block(64, 36, 1296), 512);
        assert_eq!(depth_block(16, 36, 300), 300);
        // Larger outputs: the depth split evenly into blocks of at most 1,024.
        assert_eq!(depth_block(512, 36, 1296), 648);
        assert_eq!(depth_block(1296, 36, 512), 512);
        assert_eq!(depth_block(65, 2, 1024), 1024);
        assert_eq!(depth_block(65, 2, 3600), 900);
    }

    #[test]
    fn a_hand_computed_product() {
        // [1 2 3; 4 5 6] [1 0; 0 1; 1 1] = [4 5; 10 11]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        for &kernel in Kernel::available() {
            let out = product_with(kernel, Operand::dense(&a, 2, 3), Operand::dense(&b, 3, 2));
            assert_eq!(out, vec![4.0, 5.0, 10.0, 11.0], "{kernel:?}");
        }
    }

    /// Every build against the definition, bit for bit.
    #[test]
    fn every_build_sums_as_the_definition() {
        for (i, &(m, k, n)) in SHAPES.iter().enumerate() {
            layer_products(m, k, n, i as u64, |a, b| {
                let want = reference(a, b, depth_block(a.rows, b.cols, a.cols));
                for &kernel in Kernel::available() {
                    let got = product_with(kernel, a, b);
                    assert_eq!(
                        bits(&got),
                        bits(&want),
                        "{kernel:?} [{m}, {k}] x [{k}, {n}]"
                    );
                }
            });
        }
    }

    /// The depth block this processor's `gemm` (AVX2 kernels, 16 x 6 microkernel) uses for an
    /// `m x n` output of depth `k`.
    fn gemm_depth_block(m: usize, n: usize, k: usize) -> usize {
        if m <= 64 && n <= 64 {
            k.min(512)
        } else {
            // gemm transposes a row-major output, so its rows are our columns.
            gemm_common::cache::kernel_params(n, m, k, 16, 6, 4).kc
        }
    }

    /// Where this processor's `gemm` takes its packed path with the same depth blocks, it gives
    /// the same bits as [`product`]. (On a processor whose L1 cache gives `gemm` other blocks for
    /// a large product, that product is skipped: there `gemm` and [`product`] differ by design.)
    #[test]
    fn matches_gemm_on_its_packed_path() {
        let mut compared = 0;
        for (i, &(m, k, n)) in SHAPES.iter().enumerate() {
            layer_products(m, k, n, 10 + i as u64, |a, b| {
                let (rows, depth, cols) = (a.rows, a.cols, b.cols);
                if gemm_depth_block(rows, cols, depth) != depth_block(rows, cols, depth) {
                    return;
                }
                let want = crate::ops::gemm_product(a, b, 1);
                for &kernel in Kernel::available() {
                    let got = product_with(kernel, a, b);
                    assert_eq!(
                        bits(&got),
                        bits(&want),
                        "{kernel:?}: [{rows}, {depth}] x [{depth}, {cols}]"
                    );
                }
                compared += 1;
            });
        }
        assert!(
            compared >= 20,
            "only {compared} products compared with gemm"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any shape and any strides (transposed views included), both depth-block rules:
        /// every build gives the definition's bits, and `gemm`'s wherever it takes its packed
        /// path with the same blocks.
        #[test]
        fn any_shape_and_strides(
            m in 1usize..90, k in 1usize..1100, n in 1usize..70,
            ta in any::<bool>(), tb in any::<bool>(), seed in 0u64..1000,
        ) {
            let av = values(m * k, seed);
            let bv = values(k * n, seed + 7);
            let a = if ta { Operand::dense(&av, k, m).t() } else { Operand::dense(&av, m, k) };
            let b = if tb { Operand::dense(&bv, n, k).t() } else { Operand::dense(&bv, k, n) };
            let want = reference(a, b, depth_block(m, n, k));
            for &kernel in Kernel::available() {
                prop_assert_eq!(bits(&product_with(kernel, a, b)), bits(&want));
            }
            if takes_packed_path(a, b) && gemm_depth_block(m, n, k) == depth_block(m, n, k) {
                prop_assert_eq!(bits(&crate::ops::gemm_product(a, b, 1)), bits(&want));
            }
        }
    }
}
