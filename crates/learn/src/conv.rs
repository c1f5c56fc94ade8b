//! Direct 3x3 convolution kernels over channels-last images: no patch matrix, no packing.
//!
//! A 3x3, stride-1, zero-padded convolution `y[r, q, o] = sum_{dr, dq, c} x[r+dr-1, q+dq-1, c]
//! w[(dr*3 + dq)*C + c, o]` is three loops around the same multiply-add. The im2col lowering
//! (`ops::im2col3x3`) copies every input value nine times into a patch matrix and lets `gemm`
//! pack it again; at the lab's shapes (16 channels, 9x9 to 15x15 images) that data movement, not
//! arithmetic, bounded the update phase (docs/benchmarks.md). Here the input is copied once into
//! a zero-bordered image (`[B, H+2, W+2, C]`) and the kernels read it in place:
//!
//! - [`forward`]: a block of up to 5 (AVX2) or 10 (AVX-512) neighbouring output pixels x up to 16
//!   output channels lives in registers while the 9 taps x C input channels stream past (each weight row is loaded once per
//!   block and reused for every pixel of it; the 3*C inputs of one tap row lie side by side).
//! - The input gradient is the same kernel run on the zero-bordered output gradient with the
//!   weights flipped and transposed ([`flipped`]).
//! - [`weight_grad`]: a block of up to 6 (AVX2) or 16 (AVX-512) weight rows (taps x input
//!   channels) x up to 16 output channels lives in registers while every pixel of the batch streams
//!   past.
//!
//! **Order of summation.** Every output value is one fused multiply-add chain in a fixed order:
//! forward, taps then input channels (the order of `w`'s rows, as the matrix product sums them);
//! the weight gradient, pixels in batch order. How many pixels or weight rows one block holds
//! changes which sums are in flight together, never the order within one sum. Each kernel exists
//! three times: AVX-512F intrinsics (one 16-lane register per pixel or weight row), AVX2+FMA
//! intrinsics (two 8-lane registers), the best the processor has chosen at run time, and a
//! portable version in plain Rust with `f32::mul_add`, all written to the same order. A fused
//! multiply-add rounds once whichever instruction or library routine computes it, so the three
//! agree to the bit on every value that is not a NaN (tested): the convolutions give the same
//! bits on an AVX-512, an AVX2 or any other processor (so do the fully connected layers'
//! products, `crate::dense`). Where NaNs of two different payloads meet,
//! which one comes out may differ (the software `fmaf` and `vfmadd` keep different ones), which
//! matters only after training has diverged. The portable version is the fallback for processors without AVX2+FMA, and it is slow
//! there (about 20x the AVX2 time: without hardware FMA, `mul_add` is a library call per lane).

use std::mem::MaybeUninit;

use crate::kernel::{Kernel, LANES};

/// Geometry of a 3x3 same-padded convolution: `h x w` images of `c` channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl Geometry {
    /// Values in one image.
    pub fn image(&self) -> usize {
        self.h * self.w * self.c
    }

    /// Values in one zero-bordered image.
    pub fn padded_image(&self) -> usize {
        (self.h + 2) * (self.w + 2) * self.c
    }

    /// The images `x` (`[B, H, W, C]`) with a border of zeros, `[B, H+2, W+2, C]`, into `out`
    /// (resized; every value written once: the border zeroed, the inside copied).
    pub fn pad_into(&self, x: &[f32], out: &mut Vec<f32>) {
        let (w, c) = (self.w, self.c);
        let images = x.len() / self.image().max(1);
        out.resize(images * self.padded_image(), 0.0);
        let row = (w + 2) * c;
        for (img, pad) in x
            .chunks_exact(self.image())
            .zip(out.chunks_exact_mut(self.padded_image()))
        {
            pad[..row + c].fill(0.0);
            for (r, src) in img.chunks_exact(w * c).enumerate() {
                let at = (r + 1) * row + c;
                pad[at..at + w * c].copy_from_slice(src);
                // The right border of this row and the left border of the next.
                pad[at + w * c..at + w * c + 2 * c].fill(0.0);
            }
            let end = pad.len();
            pad[end - row + c..].fill(0.0);
        }
    }
}

/// The weights `w: [9*C, O]` (tap-major rows) of a convolution from `C` to `O` channels, flipped
/// and transposed into `[9*O, C]` so that convolving the output gradient with them gives the input
/// gradient: row `(8 - t)*O + o`, column `c` holds `w[t*C + c, o]`.
pub(crate) fn flipped(w: &[f32], c: usize, o: usize) -> Vec<f32> {
    let mut out = vec![0.0; 9 * o * c];
    for t in 0..9 {
        for ci in 0..c {
            for oi in 0..o {
                out[((8 - t) * o + oi) * c + ci] = w[(t * c + ci) * o + oi];
            }
        }
    }
    out
}

/// `y = conv3x3(x, w) (+ bias, then max(0, .) if `relu`)` for the zero-bordered images `xpad`
/// (`[B, H+2, W+2, C]` of geometry `g`), `w: [9*C, O]` row-major, as `y: [B, H, W, O]`. The bias
/// is added after the sum, as `ops::bias_relu` does after a product. Every value of `y` is written
/// once, into memory that was never zero-filled first.
pub(crate) fn forward(
    g: Geometry,
    xpad: &[f32],
    w: &[f32],
    o: usize,
    bias: Option<&[f32]>,
    relu: bool,
) -> Vec<f32> {
    forward_with(Kernel::best(), g, xpad, w, o, bias, relu)
}

/// `dw[t*C + c, o] = sum over pixels (b, r, q) of xpad[b, r+dr, q+dq, c] * dy[b, r, q, o]` for the
/// zero-bordered images `xpad` and the output gradient `dy: [B, H, W, O]`, into `dw: [9*C, O]`
/// (every value written).
pub(crate) fn weight_grad(g: Geometry, xpad: &[f32], dy: &[f32], o: usize, dw: &mut [f32]) {
    weight_grad_with(Kernel::best(), g, xpad, dy, o, dw)
}

/// The weights with each row's `O` values split into blocks of [`LANES`] (the last zero-filled):
/// block `k` of row `j` at `(k * rows + j) * LANES`.
fn lane_blocks(w: &[f32], rows: usize, o: usize) -> Vec<f32> {
    let blocks = o.div_ceil(LANES);
    let mut out = vec![0.0; blocks * rows * LANES];
    for j in 0..rows {
        for (i, &v) in w[j * o..(j + 1) * o].iter().enumerate() {
            out[((i / LANES) * rows + j) * LANES + i % LANES] = v;
        }
    }
    out
}

fn forward_with(
    kernel: Kernel,
    g: Geometry,
    xpad: &[f32],
    w: &[f32],
    o: usize,
    bias: Option<&[f32]>,
    relu: bool,
) -> Vec<f32> {
    assert_eq!(w.len(), 9 * g.c * o, "convolution weights");
    let images = xpad.len() / g.padded_image().max(1);
    assert_eq!(images * g.padded_image(), xpad.len(), "padded images");
    let n = images * g.h * g.w * o;
    let mut output = Vec::with_capacity(n);
    let y = &mut output.spare_capacity_mut()[..n];
    // In this crate's tests (and debug builds) a value the blocks below missed stays NaN and
    // fails the comparison with the definition.
    #[cfg(any(test, debug_assertions))]
    y.fill(MaybeUninit::new(f32::NAN));
    if let Some(b) = bias {
        assert_eq!(b.len(), o, "convolution bias");
    }
    debug_assert!(Kernel::available().contains(&kernel));
    let rows = 9 * g.c;
    let wb = lane_blocks(w, rows, o);
    for b in 0..images {
        let img = &xpad[b * g.padded_image()..(b + 1) * g.padded_image()];
        for r in 0..g.h {
            let mut q = 0;
            while q < g.w {
                // A rest between one and two blocks is split in two near-equal blocks (6 pixels as
                // 3 + 3, not 5 + 1): a block of few pixels keeps too few sums in flight.
                let (left, most) = (g.w - q, kernel.pixels());
                let n = if left > most && left < 2 * most {
                    left.div_ceil(2)
                } else {
                    left.min(most)
                };
                let at = (r + 1) * (g.w + 2) * g.c + (q + 1) * g.c;
                for k in 0..o.div_ceil(LANES) {
                    let wk = &wb[k * rows * LANES..(k + 1) * rows * LANES];
                    let sums = Sums {
                        kernel,
                        img,
                        at,
                        row: (g.w + 2) * g.c,
                        c: g.c,
                        wk,
                    };
                    let lanes = (o - k * LANES).min(LANES);
                    let out = ((b * g.h + r) * g.w + q) * o + k * LANES;
                    let bias = bias.map(|b| &b[k * LANES..k * LANES + lanes]);
                    with_count!(n, P in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] =>
                        sums.store::<P>(bias, relu, &mut y[out..], o, lanes));
                }
                q += n;
            }
        }
    }
    // SAFETY: the blocks above cover every image, row, pixel and lane block of output channels,
    // and each block stores all of its `lanes` outputs: all `n` values are initialised.
    unsafe { output.set_len(n) };
    output
}

/// The sums of one forward block: output pixels whose centres lie at `img[at]`, `img[at + c]`, ...
/// (one padded row is `row` values), against one lane block of weights `wk` (`9*C` rows of
/// [`LANES`]).
struct Sums<'a> {
    kernel: Kernel,
    img: &'a [f32],
    at: usize,
    row: usize,
    c: usize,
    wk: &'a [f32],
}

impl Sums<'_> {
    /// Compute `P` pixels' sums, then write `lanes` of each (+ bias, rectified) at `y[p * o..]`.
    #[inline(always)]
    fn store<const P: usize>(
        &self,
        bias: Option<&[f32]>,
        relu: bool,
        y: &mut [MaybeUninit<f32>],
        o: usize,
        lanes: usize,
    ) {
        // Every tap of every pixel lies inside the image: rows at-row..at+row, P pixels wide.
        let (c, row) = (self.c, self.row);
        assert!(self.at >= row + c && self.at + row + (P + 1) * c <= self.img.len());
        assert_eq!(self.wk.len(), 9 * c * LANES);
        let acc = match self.kernel {
            Kernel::Portable => self.sums_portable::<P>(),
            // SAFETY: `Avx2` is only chosen where the processor has AVX2 and FMA, and every read
            // lies inside `img` and `wk` (asserted above).
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                let y = &mut y[..(P - 1) * o + lanes];
                if lanes == LANES {
                    // SAFETY: as above, and each pixel's 16 outputs lie inside `y`.
                    unsafe { self.sums_avx2_store::<P>(bias, relu, y, o) };
                    return;
                }
                unsafe { self.sums_avx2::<P>() }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                // SAFETY: `Avx512` is only chosen where the processor has AVX-512F; the reads lie
                // inside `img` and `wk` (asserted above) and the writes inside `y`.
                unsafe {
                    self.sums_avx512_store::<P>(bias, relu, &mut y[..(P - 1) * o + lanes], o, lanes)
                };
                return;
            }
        };
        for (p, a) in acc.iter().enumerate() {
            for (j, v) in y[p * o..p * o + lanes].iter_mut().enumerate() {
                let s = match bias {
                    Some(b) => a[j] + b[j],
                    None => a[j],
                };
                // `s < 0` is false for NaN: a non-finite value travels on, as in `ops::bias_relu`.
                v.write(if relu && s < 0.0 { 0.0 } else { s });
            }
        }
    }

    /// The first input value of tap row `dr` (taps `(dr, 0..3)`, whose `3*C` values lie side by
    /// side in the padded image, as their weight rows do) for the block's first pixel.
    #[inline(always)]
    fn tap_row(&self, dr: usize) -> usize {
        self.at + dr * self.row - self.row - self.c
    }

    #[inline(always)]
    fn sums_portable<const P: usize>(&self) -> [[f32; LANES]; P] {
        let c = self.c;
        let mut acc = [[0.0f32; LANES]; P];
        for dr in 0..3 {
            let x0 = self.tap_row(dr);
            for m in 0..3 * c {
                let wv = &self.wk[(dr * 3 * c + m) * LANES..(dr * 3 * c + m + 1) * LANES];
                for (p, a) in acc.iter_mut().enumerate() {
                    let xv = self.img[x0 + p * c + m];
                    for j in 0..LANES {
                        a[j] = xv.mul_add(wv[j], a[j]);
                    }
                }
            }
        }
        acc
    }

    /// The block's sums in registers: output channels 0..8 and 8..16 of each pixel.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn registers<const P: usize>(
        &self,
    ) -> (
        [std::arch::x86_64::__m256; P],
        [std::arch::x86_64::__m256; P],
    ) {
        use std::arch::x86_64::*;
        let c = self.c;
        let (img, wk) = (self.img.as_ptr(), self.wk.as_ptr());
        let mut lo = [_mm256_setzero_ps(); P];
        let mut hi = [_mm256_setzero_ps(); P];
        for dr in 0..3 {
            // SAFETY (this block): the caller checked that taps and weights lie inside the slices.
            unsafe {
                let x0 = img.add(self.tap_row(dr));
                let w0 = wk.add(dr * 3 * c * LANES);
                for m in 0..3 * c {
                    let wl = _mm256_loadu_ps(w0.add(m * LANES));
                    let wh = _mm256_loadu_ps(w0.add(m * LANES + 8));
                    for p in 0..P {
                        let xv = _mm256_broadcast_ss(&*x0.add(p * c + m));
                        lo[p] = _mm256_fmadd_ps(xv, wl, lo[p]);
                        hi[p] = _mm256_fmadd_ps(xv, wh, hi[p]);
                    }
                }
            }
        }
        (lo, hi)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sums_avx2<const P: usize>(&self) -> [[f32; LANES]; P] {
        // SAFETY: the caller's guarantees are this function's.
        let (lo, hi) = unsafe { self.registers::<P>() };
        rows(lo, hi)
    }

    /// The sums, + bias, rectified, stored straight from the registers at `y[p * o..p * o + 16]`.
    /// `max(0, s)` is `if s < 0 { 0 } else { s }` to the bit: `maxps` returns its second operand
    /// when either is NaN or both are zeros, so NaN and -0 pass as in the portable epilogue.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sums_avx2_store<const P: usize>(
        &self,
        bias: Option<&[f32]>,
        relu: bool,
        y: &mut [MaybeUninit<f32>],
        o: usize,
    ) {
        use std::arch::x86_64::*;
        assert!(y.len() >= (P - 1) * o + LANES);
        let y = y.as_mut_ptr().cast::<f32>();
        assert!(bias.is_none_or(|b| b.len() == LANES));
        // SAFETY: the caller's guarantees are this function's; `y` and `bias` hold what is read
        // and written (asserted here and by the caller).
        unsafe {
            let (lo, hi) = self.registers::<P>();
            let (bl, bh) = match bias {
                Some(b) => (
                    _mm256_loadu_ps(b.as_ptr()),
                    _mm256_loadu_ps(b.as_ptr().add(8)),
                ),
                None => (_mm256_setzero_ps(), _mm256_setzero_ps()),
            };
            let zero = _mm256_setzero_ps();
            for p in 0..P {
                let (mut l, mut h) = (lo[p], hi[p]);
                if bias.is_some() {
                    l = _mm256_add_ps(l, bl);
                    h = _mm256_add_ps(h, bh);
                }
                if relu {
                    l = _mm256_max_ps(zero, l);
                    h = _mm256_max_ps(zero, h);
                }
                _mm256_storeu_ps(y.add(p * o), l);
                _mm256_storeu_ps(y.add(p * o + 8), h);
            }
        }
    }

    /// The block's sums in one 16-lane register per pixel, + bias, rectified, and the first
    /// `lanes` of each stored at `y[p * o..]` (masked: a partial block reads and writes only its
    /// own lanes). The order of every sum and the epilogue are those of the AVX2 build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn sums_avx512_store<const P: usize>(
        &self,
        bias: Option<&[f32]>,
        relu: bool,
        y: &mut [MaybeUninit<f32>],
        o: usize,
        lanes: usize,
    ) {
        use std::arch::x86_64::*;
        assert!((1..=LANES).contains(&lanes) && y.len() >= (P - 1) * o + lanes);
        let y = y.as_mut_ptr().cast::<f32>();
        assert!(bias.is_none_or(|b| b.len() == lanes));
        let mask = (u32::MAX >> (32 - lanes)) as __mmask16;
        let c = self.c;
        let (img, wk) = (self.img.as_ptr(), self.wk.as_ptr());
        let mut acc = [_mm512_setzero_ps(); P];
        // SAFETY (every block below): the caller checked that taps and weights lie inside the
        // slices; `y` and `bias` hold the masked lanes (asserted here).
        for dr in 0..3 {
            unsafe {
                let x0 = img.add(self.tap_row(dr));
                let w0 = wk.add(dr * 3 * c * LANES);
                for m in 0..3 * c {
                    let wv = _mm512_loadu_ps(w0.add(m * LANES));
                    for p in 0..P {
                        let xv = _mm512_set1_ps(*x0.add(p * c + m));
                        acc[p] = _mm512_fmadd_ps(xv, wv, acc[p]);
                    }
                }
            }
        }
        let zero = _mm512_setzero_ps();
        let b = match bias {
            Some(b) => unsafe { _mm512_maskz_loadu_ps(mask, b.as_ptr()) },
            None => zero,
        };
        for (p, &a) in acc.iter().enumerate() {
            let mut s = a;
            if bias.is_some() {
                s = _mm512_add_ps(s, b);
            }
            if relu {
                // As in the AVX2 build: NaN and -0 pass as in the portable epilogue.
                s = _mm512_max_ps(zero, s);
            }
            unsafe { _mm512_mask_storeu_ps(y.add(p * o), mask, s) };
        }
    }
}

fn weight_grad_with(
    kernel: Kernel,
    g: Geometry,
    xpad: &[f32],
    dy: &[f32],
    o: usize,
    dw: &mut [f32],
) {
    debug_assert!(Kernel::available().contains(&kernel));
    let (c, pixels) = (g.c, g.h * g.w);
    let images = xpad.len() / g.padded_image().max(1);
    assert_eq!(images * g.padded_image(), xpad.len(), "padded images");
    assert_eq!(images * pixels * o, dy.len(), "output gradient");
    assert_eq!(dw.len(), 9 * c * o, "convolution weight gradient");
    // The output gradient in lane blocks: pixel i's block k at (k * all + i) * LANES.
    let all = images * pixels;
    let blocks = o.div_ceil(LANES);
    let dyb = if o == LANES {
        std::borrow::Cow::Borrowed(dy)
    } else {
        std::borrow::Cow::Owned(lane_blocks(dy, all, o))
    };
    // Accumulators in lane blocks too: (k * 9C + t*C + ci) * LANES.
    let rows = 9 * c;
    let mut acc = vec![0.0f32; blocks * rows * LANES];
    // Images in chunks that stay in cache while all 9 taps x channel blocks sweep them; each
    // accumulator is loaded and stored around a chunk, so the order over pixels is batch order
    // whatever the chunk size.
    const CHUNK: usize = 8;
    let mut b0 = 0;
    while b0 < images {
        let b1 = (b0 + CHUNK).min(images);
        for k in 0..blocks {
            let sweep = Sweep {
                kernel,
                g,
                xpad: &xpad[b0 * g.padded_image()..b1 * g.padded_image()],
                dy: &dyb[(k * all + b0 * pixels) * LANES..(k * all + b1 * pixels) * LANES],
            };
            // Tap row dr's 3*C weight rows (taps (dr, 0..3) x channels) read 3*C values side by
            // side in the padded image: blocks of up to `kernel.weight_rows()` of them.
            for dr in 0..3 {
                let mut m0 = 0;
                while m0 < 3 * c {
                    let n = (3 * c - m0).min(kernel.weight_rows());
                    let a = &mut acc[(k * rows + dr * 3 * c + m0) * LANES..];
                    with_count!(n, N in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] =>
                        sweep.add::<N>(dr, m0, a));
                    m0 += n;
                }
            }
        }
        b0 = b1;
    }
    for j in 0..rows {
        for i in 0..o {
            dw[j * o + i] = acc[((i / LANES) * rows + j) * LANES + i % LANES];
        }
    }
}

/// One pass of the weight gradient over a chunk of images: `xpad` their padded images, `dy` one
/// lane block of their output gradient (a row of [`LANES`] per pixel).
struct Sweep<'a> {
    kernel: Kernel,
    g: Geometry,
    xpad: &'a [f32],
    dy: &'a [f32],
}

impl Sweep<'_> {
    /// Add, for the weight rows `dr*3*C + m0 ..+N` (tap row `dr`; `m0` counts taps x channels
    /// within it), every pixel's products onto `acc` (`N` rows of [`LANES`]).
    #[inline(always)]
    fn add<const N: usize>(&self, dr: usize, m0: usize, acc: &mut [f32]) {
        let g = self.g;
        assert!(m0 + N <= 3 * g.c && dr < 3 && acc.len() >= N * LANES);
        assert_eq!(
            self.xpad.len() / g.padded_image() * g.h * g.w * LANES,
            self.dy.len()
        );
        let mut a = [[0.0f32; LANES]; N];
        for (n, an) in a.iter_mut().enumerate() {
            an.copy_from_slice(&acc[n * LANES..(n + 1) * LANES]);
        }
        let a = match self.kernel {
            Kernel::Portable => self.add_portable(dr, m0, a),
            // SAFETY: `Avx2` is only chosen where the processor has AVX2 and FMA; the reads stay
            // inside `xpad` and `dy` (their shapes asserted above, the tap inside the border).
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { self.add_avx2(dr, m0, a) },
            // SAFETY: `Avx512` is only chosen where the processor has AVX-512F; reads as above.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { self.add_avx512(dr, m0, a) },
        };
        for (n, an) in a.iter().enumerate() {
            acc[n * LANES..(n + 1) * LANES].copy_from_slice(an);
        }
    }

    /// Offset in the chunk's padded images of tap `(dr, 0)`'s input for pixel `(b, r, q)`,
    /// channel 0.
    #[inline(always)]
    fn tap(&self, b: usize, r: usize, q: usize, dr: usize) -> usize {
        let g = self.g;
        b * g.padded_image() + ((r + dr) * (g.w + 2) + q) * g.c
    }

    #[inline(always)]
    fn add_portable<const N: usize>(
        &self,
        dr: usize,
        m0: usize,
        mut a: [[f32; LANES]; N],
    ) -> [[f32; LANES]; N] {
        let g = self.g;
        let mut i = 0;
        for b in 0..self.xpad.len() / g.padded_image() {
            for r in 0..g.h {
                for q in 0..g.w {
                    let dv = &self.dy[i * LANES..(i + 1) * LANES];
                    let x0 = self.tap(b, r, q, dr) + m0;
                    for (n, an) in a.iter_mut().enumerate() {
                        let xv = self.xpad[x0 + n];
                        for j in 0..LANES {
                            an[j] = xv.mul_add(dv[j], an[j]);
                        }
                    }
                    i += 1;
                }
            }
        }
        a
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn add_avx2<const N: usize>(
        &self,
        dr: usize,
        m0: usize,
        a: [[f32; LANES]; N],
    ) -> [[f32; LANES]; N] {
        use std::arch::x86_64::*;
        let g = self.g;
        let (xp, dp) = (self.xpad.as_ptr(), self.dy.as_ptr());
        let mut lo = [_mm256_setzero_ps(); N];
        let mut hi = [_mm256_setzero_ps(); N];
        // SAFETY (every block below): `a` rows hold 16 values; the caller checked the shapes, so
        // pixel i's gradient row and its tap's N channels lie inside the slices.
        for n in 0..N {
            unsafe {
                lo[n] = _mm256_loadu_ps(a[n].as_ptr());
                hi[n] = _mm256_loadu_ps(a[n].as_ptr().add(8));
            }
        }
        let mut i = 0;
        for b in 0..self.xpad.len() / g.padded_image() {
            for r in 0..g.h {
                for q in 0..g.w {
                    unsafe {
                        let dl = _mm256_loadu_ps(dp.add(i * LANES));
                        let dh = _mm256_loadu_ps(dp.add(i * LANES + 8));
                        let x0 = xp.add(self.tap(b, r, q, dr) + m0);
                        for n in 0..N {
                            let xv = _mm256_broadcast_ss(&*x0.add(n));
                            lo[n] = _mm256_fmadd_ps(xv, dl, lo[n]);
                            hi[n] = _mm256_fmadd_ps(xv, dh, hi[n]);
                        }
                    }
                    i += 1;
                }
            }
        }
        rows(lo, hi)
    }

    /// [`Sweep::add_avx2`] with one 16-lane register per weight row.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn add_avx512<const N: usize>(
        &self,
        dr: usize,
        m0: usize,
        mut a: [[f32; LANES]; N],
    ) -> [[f32; LANES]; N] {
        use std::arch::x86_64::*;
        let g = self.g;
        let (xp, dp) = (self.xpad.as_ptr(), self.dy.as_ptr());
        let mut acc = [_mm512_setzero_ps(); N];
        // SAFETY (every block below): as in `add_avx2`.
        for (v, an) in acc.iter_mut().zip(&a) {
            *v = unsafe { _mm512_loadu_ps(an.as_ptr()) };
        }
        let mut i = 0;
        for b in 0..self.xpad.len() / g.padded_image() {
            for r in 0..g.h {
                for q in 0..g.w {
                    unsafe {
                        let d = _mm512_loadu_ps(dp.add(i * LANES));
                        let x0 = xp.add(self.tap(b, r, q, dr) + m0);
                        for (n, an) in acc.iter_mut().enumerate() {
                            *an = _mm512_fmadd_ps(_mm512_set1_ps(*x0.add(n)), d, *an);
                        }
                    }
                    i += 1;
                }
            }
        }
        for (an, v) in a.iter_mut().zip(acc) {
            unsafe { _mm512_storeu_ps(an.as_mut_ptr(), v) };
        }
        a
    }
}

/// Pairs of registers (lanes 0..8 and 8..16) as rows of [`LANES`] values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn rows<const P: usize>(
    lo: [std::arch::x86_64::__m256; P],
    hi: [std::arch::x86_64::__m256; P],
) -> [[f32; LANES]; P] {
    use std::arch::x86_64::*;
    let mut out = [[0.0f32; LANES]; P];
    for p in 0..P {
        // SAFETY: each row of `out` holds 16 values.
        unsafe {
            _mm256_storeu_ps(out[p].as_mut_ptr(), lo[p]);
            _mm256_storeu_ps(out[p].as_mut_ptr().add(8), hi[p]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution by its definition, in f64.
    fn reference(g: Geometry, x: &[f32], w: &[f32], o: usize) -> Vec<f64> {
        let images = x.len() / g.image();
        let mut y = vec![0.0f64; images * g.h * g.w * o];
        for b in 0..images {
            for r in 0..g.h {
                for q in 0..g.w {
                    for t in 0..9 {
                        let (rr, qq) = (r + t / 3, q + t % 3);
                        if rr < 1 || qq < 1 || rr > g.h || qq > g.w {
                            continue;
                        }
                        for ci in 0..g.c {
                            let xv = x[((b * g.h + rr - 1) * g.w + qq - 1) * g.c + ci] as f64;
                            for oi in 0..o {
                                y[((b * g.h + r) * g.w + q) * o + oi] +=
                                    xv * w[(t * g.c + ci) * o + oi] as f64;
                            }
                        }
                    }
                }
            }
        }
        y
    }

    fn wave(n: usize, f: f32) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * f).sin()).collect()
    }

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert!((*p as f64 - q).abs() < 1e-4, "value {i}: {p} vs {q}");
        }
    }

    /// Shapes of many block sizes: widths 1 to 11, channel counts above and below the blocks,
    /// output widths of one, one partial and more than one lane block.
    const SHAPES: [(usize, usize, usize, usize, usize); 6] = [
        (2, 3, 4, 2, 3),
        (1, 9, 9, 16, 16),
        (3, 1, 1, 1, 1),
        (2, 5, 7, 7, 20),
        (1, 11, 6, 3, 33),
        (2, 2, 11, 13, 8),
    ];

    #[test]
    fn forward_matches_the_definition() {
        for (b, h, w, c, o) in SHAPES {
            let g = Geometry { h, w, c };
            let x = wave(b * g.image(), 0.7);
            let wt = wave(9 * c * o, 0.31);
            let mut xpad = Vec::new();
            g.pad_into(&x, &mut xpad);
            let y = forward(g, &xpad, &wt, o, None, false);
            close(&y, &reference(g, &x, &wt, o));
        }
    }

    #[test]
    fn bias_and_rectifier_follow_the_sum() {
        let g = Geometry { h: 3, w: 3, c: 2 };
        let x = wave(g.image(), 0.9);
        let wt = wave(18 * 3, 0.4);
        let bias = [0.5, -0.25, 0.0];
        let mut xpad = Vec::new();
        g.pad_into(&x, &mut xpad);
        let plain = forward(g, &xpad, &wt, 3, None, false);
        let fused = forward(g, &xpad, &wt, 3, Some(&bias), true);
        for (i, (p, f)) in plain.iter().zip(&fused).enumerate() {
            assert_eq!(*f, (p + bias[i % 3]).max(0.0));
        }
    }

    #[test]
    fn input_gradient_is_the_flipped_convolution() {
        // <conv(x, w), dy> == <x, conv(dy, flipped(w))>: the flipped kernel is the adjoint.
        for (b, h, w, c, o) in SHAPES {
            let g = Geometry { h, w, c };
            let x = wave(b * g.image(), 0.7);
            let wt = wave(9 * c * o, 0.31);
            let dy = wave(b * h * w * o, 1.3);
            let y = reference(g, &x, &wt, o);
            let lhs: f64 = y.iter().zip(&dy).map(|(a, &d)| a * d as f64).sum();
            let go = Geometry { h, w, c: o };
            let mut dpad = Vec::new();
            go.pad_into(&dy, &mut dpad);
            let dx = forward(go, &dpad, &flipped(&wt, c, o), c, None, false);
            close(&dx, &reference(go, &dy, &flipped(&wt, c, o), c));
            let rhs: f64 = dx.iter().zip(&x).map(|(a, &v)| *a as f64 * v as f64).sum();
            assert!(
                (lhs - rhs).abs() < 1e-3 * (1.0 + lhs.abs()),
                "{lhs} vs {rhs}"
            );
        }
    }

    #[test]
    fn weight_gradient_matches_the_definition() {
        for (b, h, w, c, o) in SHAPES {
            let g = Geometry { h, w, c };
            let x = wave(b * g.image(), 0.7);
            let dy = wave(b * h * w * o, 1.3);
            let mut xpad = Vec::new();
            g.pad_into(&x, &mut xpad);
            let mut dw = vec![f32::NAN; 9 * c * o];
            weight_grad(g, &xpad, &dy, o, &mut dw);
            // d<conv(x, w), dy>/dw[j, i] is the convolution of x with the unit weight e_{j,i}.
            let mut want = vec![0.0f64; 9 * c * o];
            for (j, wj) in want.iter_mut().enumerate() {
                let mut e = vec![0.0f32; 9 * c * o];
                e[j] = 1.0;
                let y = reference(g, &x, &e, o);
                *wj = y.iter().zip(&dy).map(|(a, &d)| a * d as f64).sum();
            }
            close(&dw, &want);
        }
    }

    #[test]
    fn every_build_agrees_bit_for_bit() {
        // The AVX-512 and AVX2+FMA builds (those this processor has) and the portable one sum in
        // the same order, with blocks of different sizes: equal to the bit, with bias and
        // rectifier, partial lane blocks, and a NaN (of one payload) travelling through all.
        let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let kernels = Kernel::available();
        eprintln!("kernels on this processor: {kernels:?}");
        for (h, w, c, o) in [
            (9, 9, 16, 16),
            (7, 13, 3, 16),
            (5, 6, 5, 20),
            (11, 11, 16, 16),
            (3, 23, 7, 9),
            (1, 9, 1, 1),
            (2, 8, 2, 3),
            (1, 20, 6, 33),
            (4, 3, 16, 16),
        ] {
            let g = Geometry { h, w, c };
            let mut x = wave(3 * g.image(), 0.7);
            x[g.image() + 5] = f32::NAN;
            let wt = wave(9 * c * o, 0.31);
            let bias = wave(o, 2.1);
            let dy = wave(3 * h * w * o, 1.3);
            let mut xpad = Vec::new();
            g.pad_into(&x, &mut xpad);
            let mut y1 = Vec::new();
            let (mut w1, mut w2) = (vec![0.0; 9 * c * o], vec![0.0; 9 * c * o]);
            for &kernel in &kernels[1..] {
                for (bias, relu) in [
                    (None, false),
                    (Some(&bias[..]), true),
                    (Some(&bias[..]), false),
                    (None, true),
                ] {
                    y1 = forward_with(kernel, g, &xpad, &wt, o, bias, relu);
                    let y2 = forward_with(Kernel::Portable, g, &xpad, &wt, o, bias, relu);
                    assert_eq!(bits(&y1), bits(&y2), "{kernel:?} forward");
                }
                assert!(y1.iter().any(|v| v.is_nan()) && y1.contains(&0.0));
                weight_grad_with(kernel, g, &xpad, &dy, o, &mut w1);
                weight_grad_with(Kernel::Portable, g, &xpad, &dy, o, &mut w2);
                assert_eq!(bits(&w1), bits(&w2), "{kernel:?} weight gradient");
            }
        }
    }

    #[test]
    fn padding_zeroes_the_border_of_a_reused_buffer() {
        let g = Geometry { h: 2, w: 3, c: 2 };
        let x: Vec<f32> = (1..=24).map(|v| v as f32).collect();
        let mut out = vec![f32::NAN; 200];
        g.pad_into(&x, &mut out);
        assert_eq!(out.len(), 2 * 4 * 5 * 2);
        for (i, v) in out.iter().enumerate() {
            let (r, q) = ((i / 2) % 20 / 5, (i / 2) % 5);
            let inside = (1..=2).contains(&r) && (1..=3).contains(&q);
            let want = if inside {
                x[(i / 40) * 12 + ((r - 1) * 3 + q - 1) * 2 + i % 2]
            } else {
                0.0
            };
            assert_eq!(*v, want, "value {i}");
        }
    }
}
