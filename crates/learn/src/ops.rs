//! The operations the networks spend their time in, written as candle custom ops so that their
//! backward passes are matrix products and plain loops rather than chains of general kernels.
//!
//! - [`matmul`]: a 2-D matrix product: `crate::dense`'s direct kernels where they give the bits
//!   of the `gemm` crate (the kernel candle itself calls), `gemm` elsewhere, with its parallelism
//!   under our control ([`set_gemm_threads`]). Training runs one per
//!   experiment unit and units already fill the cores, so the default is one thread, which also
//!   keeps rayon (and its work stealing) out of training altogether.
//! - [`affine_relu`]: `relu(x W + b)`, one node in the graph instead of three.
//! - [`conv3x3_relu`]: a 3x3, stride-1, zero-padded convolution over a channels-last batch, then
//!   bias and ReLU, as one node, computed directly (`crate::conv`: no patch matrix); its backward
//!   pass gives the input gradient as a convolution with the flipped weights and the weight
//!   gradient as one sweep over the batch.
//! - [`im2col3x3`]: the patch matrix (im2col), as a differentiable op (its gradient is col2im): the
//!   lowering the convolution used before the direct kernels, kept as their reference in tests.
//!
//! Why it matters: candle gives every op a fresh buffer and accumulates every gradient into a
//! zero-filled one; for these small networks that traffic, not arithmetic, dominated the update
//! phase (docs/benchmarks.md).

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::kernel::{self, Kernel};
use crate::{conv, dense};
use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor, bail,
};

static GEMM_THREADS: AtomicUsize = AtomicUsize::new(1);

/// Names the code that computes the convolutions and their gradients. A different kernel sums in
/// another order, so the same seed trains other weights: experiments put this name in the keys of
/// stored CNN training runs, and it must change whenever the order of any sum in `crate::conv`
/// does. (`im2col-gemm` was the lowering before the direct kernels.)
pub const CONVOLUTION: &str = "direct-3x3";

/// Time the convolutions, and the fully connected products `crate::dense` computes, with the
/// build of their kernels named `name` (`portable`, `avx2`, `avx512`, or `best`, the default: the
/// fastest this processor has), from now on and in every thread. All builds sum in the same order and give the same bits (tested), so this changes speed
/// only; the speed examples take it to compare the builds side by side. An unknown name or one
/// this processor cannot run is an error naming those it can.
pub fn set_convolution_kernel(name: &str) -> std::result::Result<(), String> {
    kernel::choose(name)
}

/// The name of the convolution kernels' build that runs now (see [`set_convolution_kernel`]).
pub fn convolution_kernel() -> &'static str {
    kernel::chosen()
}

/// Threads each matrix product may use (default 1). This changes speed only: `gemm` splits the
/// output into blocks and sums every dot product in the same order whatever the thread count
/// (checked by a test).
///
/// More than one thread runs the products on rayon. Set it only where training is not itself
/// running inside a rayon pool (the `speed` example's main thread, say): a worker that waits on a
/// product may steal another layer's op, which would find this thread's patch buffer in use and
/// panic. Experiments keep the default.
pub fn set_gemm_threads(threads: usize) {
    GEMM_THREADS.store(threads.max(1), Ordering::Relaxed);
}

/// Threads each matrix product may use.
pub fn gemm_threads() -> usize {
    GEMM_THREADS.load(Ordering::Relaxed)
}

thread_local! {
    /// The zero-bordered input of the convolution being computed on this thread, reused across
    /// calls.
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

fn f32_slice<'a>(s: &'a CpuStorage, what: &str) -> Result<&'a [f32]> {
    match s {
        CpuStorage::F32(v) => Ok(v),
        _ => bail!("{what}: only f32 tensors are supported"),
    }
}

/// The contiguous values of a tensor argument.
pub(crate) fn contiguous<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let Some((start, end)) = l.contiguous_offsets() else {
        bail!("{what}: the operand must be contiguous");
    };
    Ok(&f32_slice(s, what)?[start..end])
}

/// A matrix operand: `rows x cols` values of `data` at `r * rs + c * cs`.
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) rs: usize,
    pub(crate) cs: usize,
}

impl<'a> Operand<'a> {
    /// A row-major contiguous matrix.
    pub(crate) fn dense(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Operand {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// A 2-D tensor with any strides (transposed views are free), or a contiguous tensor of higher
    /// rank read as `[dim 0, the rest]`.
    fn from_layout(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<Self> {
        let data = &f32_slice(s, what)?[l.start_offset()..];
        let dims = l.dims();
        match dims.len() {
            2 => Ok(Operand {
                data,
                rows: dims[0],
                cols: dims[1],
                rs: l.stride()[0],
                cs: l.stride()[1],
            }),
            r if r > 2 => {
                let data = contiguous(s, l, what)?;
                Ok(Operand::dense(data, dims[0], dims[1..].iter().product()))
            }
            _ => bail!("{what}: needs a matrix, got shape {dims:?}"),
        }
    }

    pub(crate) fn t(self) -> Self {
        Operand {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Whether every addressed value lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

/// `a b`: on `gemm`'s packed path computed by `crate::dense` in the same order (same bits, and
/// AVX-512 where the processor has it), elsewhere by `gemm`.
fn product(a: Operand, b: Operand) -> Result<Vec<f32>> {
    if a.cols != b.rows {
        bail!(
            "matmul: [{}, {}] and [{}, {}] do not chain",
            a.rows,
            a.cols,
            b.rows,
            b.cols
        );
    }
    if !a.in_bounds() || !b.in_bounds() {
        bail!("matmul: an operand's strides reach past its storage");
    }
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 || k == 0 {
        return Ok(vec![0.0; m * n]);
    }
    let threads = gemm_threads();
    if threads == 1 && dense::takes_packed_path(a, b) {
        return Ok(dense::product(a, b));
    }
    Ok(gemm_product(a, b, threads))
}

/// `a b` through `gemm` on `threads` threads (operands checked by the caller, none empty).
pub(crate) fn gemm_product(a: Operand, b: Operand, threads: usize) -> Vec<f32> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let mut out = Vec::with_capacity(m * n);
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: both operands' addressed extents lie inside their slices (checked above); `out` has
    // room for m x n values, which `gemm` writes without reading (`read_dst` is false, k > 0)
    // before the length is set.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.spare_capacity_mut().as_mut_ptr().cast::<f32>(),
            1,
            n as isize,
            false,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
        out.set_len(m * n);
    }
    out
}

/// A matrix operand's values, row-major and contiguous.
fn dense_weights(w: Operand) -> Vec<f32> {
    let mut out = Vec::with_capacity(w.rows * w.cols);
    for r in 0..w.rows {
        for c in 0..w.cols {
            out.push(w.data[r * w.rs + c * w.cs]);
        }
    }
    out
}

/// Add the bias to every row and rectify, in place. `y < 0` is false for NaN, so a non-finite
/// value travels on to the loss instead of being rectified away.
fn bias_relu(out: &mut [f32], bias: &[f32]) {
    Kernel::best().vectorized(|| {
        for row in out.chunks_exact_mut(bias.len()) {
            for (o, &b) in row.iter_mut().zip(bias) {
                let y = *o + b;
                *o = if y < 0.0 { 0.0 } else { y };
            }
        }
    })
}

struct MatMul;

impl CustomOp2 for MatMul {
    fn name(&self) -> &'static str {
        "cruxlab-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        if l1.dims().len() != 2 {
            bail!("matmul: needs a matrix, got shape {:?}", l1.dims());
        }
        let a = Operand::from_layout(s1, l1, "matmul")?;
        let b = Operand::from_layout(s2, l2, "matmul")?;
        let out = product(a, b)?;
        Ok((CpuStorage::F32(out), Shape::from((a.rows, b.cols))))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        // d(ab)/da = grad b^T, d(ab)/db = a^T grad; skip the side that needs no gradient.
        let ga = if a.track_op() {
            Some(grad.apply_op2_no_bwd(&b.t()?, &MatMul)?)
        } else {
            None
        };
        let gb = if b.track_op() {
            Some(a.apply_op2_no_bwd(grad, &TransposedProduct)?)
        } else {
            None
        };
        Ok((ga, gb))
    }
}

/// 2-D matrix product `[m, k] x [k, n] -> [m, n]` with a gradient (the module notes say which
/// kernel computes it).
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.apply_op2(b, MatMul)
}

/// `a^T g` for `a` read as `[m, k]` (any rank, see [`Operand::from_layout`]) and `g: [m, n]`: a
/// weight gradient.
struct TransposedProduct;

impl CustomOp2 for TransposedProduct {
    fn name(&self) -> &'static str {
        "cruxlab-transposed-product"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let a = Operand::from_layout(s1, l1, "weight gradient")?.t();
        let g = Operand::from_layout(s2, l2, "weight gradient")?;
        let out = product(a, g)?;
        Ok((CpuStorage::F32(out), Shape::from((a.rows, g.cols))))
    }
}

/// `relu(x w + b)` in one op: the product, then one pass adding the bias and rectifying. Its
/// gradient masks the incoming gradient by the active units once and reuses the mask for all three
/// arguments (two products and a column sum). `x` may have any rank; it is read as
/// `[dim 0, the rest]` (a flattened convolution map, say).
struct AffineRelu;

impl CustomOp3 for AffineRelu {
    fn name(&self) -> &'static str {
        "cruxlab-affine-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = Operand::from_layout(s1, l1, "affine")?;
        let w = Operand::from_layout(s2, l2, "affine")?;
        let b = contiguous(s3, l3, "affine bias")?;
        if b.len() != w.cols {
            bail!("affine: bias of {} for {} outputs", b.len(), w.cols);
        }
        let mut out = product(x, w)?;
        bias_relu(&mut out, b);
        Ok((CpuStorage::F32(out), Shape::from((x.rows, w.cols))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<Grads3> {
        relu_layer_grads(
            [x, w, b],
            res,
            grad,
            |g| g.apply_op2_no_bwd(&w.t()?, &MatMul)?.reshape(x.shape()),
            |g| x.apply_op2_no_bwd(g, &TransposedProduct),
        )
    }
}

type Grads3 = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

/// The gradients of a layer `res = relu(f(x, w) + b)`: the incoming gradient masked by the active
/// units once (`g`), then `input(g)`, `weight(g)` and the column sum of `g`, each only for an
/// argument that needs a gradient.
fn relu_layer_grads(
    [x, w, b]: [&Tensor; 3],
    res: &Tensor,
    grad: &Tensor,
    input: impl Fn(&Tensor) -> Result<Tensor>,
    weight: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Grads3> {
    let g = grad.contiguous()?.apply_op2_no_bwd(res, &ActiveGrad)?;
    let gx = x.track_op().then(|| input(&g)).transpose()?;
    let gw = w.track_op().then(|| weight(&g)).transpose()?;
    let gb = b
        .track_op()
        .then(|| g.apply_op1_no_bwd(&ColumnSum))
        .transpose()?;
    Ok((gx, gw, gb))
}

/// `relu(x w + b)` for `x: [m, ...]` (read as `[m, k]`), `w: [k, n]`, `b: [n]`, with a gradient.
pub fn affine_relu(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let x = if x.rank() > 2 {
        x.contiguous()?
    } else {
        x.clone()
    };
    x.apply_op3(w, b, AffineRelu)
}

/// The incoming gradient where the unit is active (`relu` output above 0), 0 elsewhere.
struct ActiveGrad;

impl CustomOp2 for ActiveGrad {
    fn name(&self) -> &'static str {
        "cruxlab-active-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = contiguous(s1, l1, "relu gradient")?;
        let r = contiguous(s2, l2, "relu gradient")?;
        let out = Kernel::best().vectorized(|| {
            g.iter()
                .zip(r)
                .map(|(&g, &r)| if r > 0.0 { g } else { 0.0 })
                .collect()
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// Sum over every dimension but the last: `[..., n] -> [n]` (a bias gradient).
struct ColumnSum;

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "cruxlab-column-sum"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let n = *l.dims().last().unwrap_or(&1);
        let mut out = vec![0.0f32; n];
        let rows = contiguous(s, l, "column sum")?;
        // Lanes run across columns; each column still sums its rows in order.
        Kernel::best().vectorized(|| {
            for row in rows.chunks_exact(n.max(1)) {
                for (o, v) in out.iter_mut().zip(row) {
                    *o += v;
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from(n)))
    }
}

/// The im2col lowering of a convolution of geometry `conv::Geometry` (the reference the direct
/// kernels are tested against).
impl conv::Geometry {
    /// The geometry of a channels-last batch `[B, H, W, C]`.
    fn of(dims: &[usize]) -> Result<conv::Geometry> {
        match dims {
            &[_, h, w, c] => Ok(conv::Geometry { h, w, c }),
            _ => bail!("convolution: needs [B, H, W, C], got {dims:?}"),
        }
    }

    /// Values in one image's patch matrix (`H*W` rows of `9*C`).
    fn patch(&self) -> usize {
        self.image() * 9
    }

    /// Visit one image's patch matrix a row of taps at a time: `f(dst, src, lo, hi)` for pixel
    /// `(r, q)` and tap row `dr`, where `dst` is the offset of the three taps `(dr, 0..3)` in the
    /// patch matrix (patch row `r * w + q` holds tap `(dr, dq)` at columns `(dr * 3 + dq) * c ..`),
    /// taps `lo..hi` read the image contiguously from offset `src`, and the rest (also every tap
    /// when `src` is `None`) lie in the zero padding.
    #[inline]
    fn for_each_tap_row(&self, mut f: impl FnMut(usize, Option<usize>, usize, usize)) {
        let (h, w, c) = (self.h, self.w, self.c);
        for r in 0..h {
            for q in 0..w {
                let row = (r * w + q) * 9 * c;
                // Padded column q + dq is inside for 1 <= q + dq <= w.
                let lo = usize::from(q == 0);
                let hi = 3.min(w - q + 1);
                for dr in 0..3 {
                    // Padded row r + dr is inside for 1 <= r + dr <= h.
                    let inside = r + dr >= 1 && r + dr <= h;
                    let src = inside.then(|| ((r + dr - 1) * w + q + lo - 1) * c);
                    f(row + dr * 3 * c, src, lo, hi);
                }
            }
        }
    }

    /// The patch matrix of the images `x` into `out` (resized; every value written).
    fn patches_into(&self, x: &[f32], out: &mut Vec<f32>) {
        let b = x.len() / self.image();
        out.resize(b * self.patch(), 0.0);
        let c = self.c;
        for (img, cols) in x
            .chunks_exact(self.image())
            .zip(out.chunks_exact_mut(self.patch()))
        {
            self.for_each_tap_row(|dst, src, lo, hi| {
                let taps = &mut cols[dst..dst + 3 * c];
                match src {
                    Some(src) => {
                        taps[..lo * c].fill(0.0);
                        taps[lo * c..hi * c].copy_from_slice(&img[src..src + (hi - lo) * c]);
                        taps[hi * c..].fill(0.0);
                    }
                    None => taps.fill(0.0),
                }
            });
        }
    }

    /// col2im: sum every tap of the patch-matrix gradient `g` back onto its pixel.
    fn sum_patches(&self, g: &[f32]) -> Vec<f32> {
        let b = g.len() / self.patch();
        let mut out = vec![0.0f32; b * self.image()];
        let c = self.c;
        for (cols, img) in g
            .chunks_exact(self.patch())
            .zip(out.chunks_exact_mut(self.image()))
        {
            self.for_each_tap_row(|src, dst, lo, hi| {
                if let Some(dst) = dst {
                    let n = (hi - lo) * c;
                    let from = &cols[src + lo * c..src + lo * c + n];
                    for (d, s) in img[dst..dst + n].iter_mut().zip(from) {
                        *d += s;
                    }
                }
            });
        }
        out
    }
}

/// `relu(conv3x3(x, w) + b)` for `x: [B, H, W, C]`, `w: [9*C, O]` (tap-major rows, see
/// [`im2col3x3`]), `b: [O]` -> `[B, H, W, O]`.
struct Conv3x3Relu;

impl CustomOp3 for Conv3x3Relu {
    fn name(&self) -> &'static str {
        "cruxlab-conv3x3-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let p = conv::Geometry::of(l1.dims())?;
        let x = contiguous(s1, l1, "convolution")?;
        let w = Operand::from_layout(s2, l2, "convolution")?;
        let b = contiguous(s3, l3, "convolution bias")?;
        if w.rows != 9 * p.c || b.len() != w.cols {
            bail!(
                "convolution: weights [{}, {}] and bias of {} for {} input channels",
                w.rows,
                w.cols,
                b.len(),
                p.c
            );
        }
        let batch = l1.dims()[0];
        let wd = dense_weights(w);
        let out = PADDED.with(|buf| {
            let mut buf = buf.borrow_mut();
            p.pad_into(x, &mut buf);
            conv::forward(p, &buf, &wd, w.cols, Some(b), true)
        });
        Ok((CpuStorage::F32(out), Shape::from((batch, p.h, p.w, w.cols))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<Grads3> {
        relu_layer_grads(
            [x, w, b],
            res,
            grad,
            |g| g.apply_op2_no_bwd(w, &ConvInputGrad),
            |g| x.apply_op2_no_bwd(g, &ConvWeightGrad),
        )
    }
}

/// The input gradient of a convolution, for `g: [B, H, W, O]`, `w: [9*C, O]`: `g` convolved with
/// the flipped, transposed weights ([`conv::flipped`]).
struct ConvInputGrad;

impl CustomOp2 for ConvInputGrad {
    fn name(&self) -> &'static str {
        "cruxlab-conv3x3-input-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let dims = l1.dims();
        let w = Operand::from_layout(s2, l2, "convolution gradient")?;
        let p = conv::Geometry::of(&[dims[0], dims[1], dims[2], w.rows / 9])?;
        let n = dims[0] * p.h * p.w * w.cols;
        let g = contiguous(s1, l1, "convolution gradient")?;
        if g.len() != n {
            bail!(
                "convolution gradient: {} values for {dims:?} x {} channels",
                g.len(),
                w.cols
            );
        }
        // The input gradient is the output gradient convolved with the flipped, transposed weights.
        let wf = conv::flipped(&dense_weights(w), p.c, w.cols);
        let go = conv::Geometry {
            h: p.h,
            w: p.w,
            c: w.cols,
        };
        let out = PADDED.with(|buf| {
            let mut buf = buf.borrow_mut();
            go.pad_into(g, &mut buf);
            conv::forward(go, &buf, &wf, p.c, None, false)
        });
        Ok((CpuStorage::F32(out), Shape::from((dims[0], p.h, p.w, p.c))))
    }
}

/// The weight gradient of a convolution, `[9*C, O]`, for `x: [B, H, W, C]`, `g: [B, H, W, O]`
/// ([`conv::weight_grad`]).
struct ConvWeightGrad;

impl CustomOp2 for ConvWeightGrad {
    fn name(&self) -> &'static str {
        "cruxlab-conv3x3-weight-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let p = conv::Geometry::of(l1.dims())?;
        let x = contiguous(s1, l1, "convolution gradient")?;
        let g = contiguous(s2, l2, "convolution gradient")?;
        let rows = l1.dims()[0] * p.h * p.w;
        let o = g.len() / rows.max(1);
        if rows * o != g.len() {
            bail!("convolution gradient: {} values for {rows} pixels", g.len());
        }
        let mut out = vec![0.0f32; 9 * p.c * o];
        PADDED.with(|buf| {
            let mut buf = buf.borrow_mut();
            p.pad_into(x, &mut buf);
            conv::weight_grad(p, &buf, g, o, &mut out);
        });
        Ok((CpuStorage::F32(out), Shape::from((9 * p.c, o))))
    }
}

/// `relu(conv3x3(x) + b)`: a 3x3, stride-1, zero-padded convolution of the channels-last batch
/// `x: [B, H, W, C]` with `w: [9*C, O]` (rows tap-major, as in [`im2col3x3`]) and `b: [O]`, giving
/// `[B, H, W, O]`, with a gradient.
pub fn conv3x3_relu(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op3(w, b, Conv3x3Relu)
}

struct Im2col;

impl CustomOp1 for Im2col {
    fn name(&self) -> &'static str {
        "cruxlab-im2col3x3"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let p = conv::Geometry::of(l.dims())?;
        let mut out = Vec::new();
        p.patches_into(contiguous(s, l, "im2col")?, &mut out);
        let rows = l.dims()[0] * p.h * p.w;
        Ok((CpuStorage::F32(out), Shape::from((rows, 9 * p.c))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let dims = arg.dims().to_vec();
        Ok(Some(
            grad.contiguous()?
                .apply_op1_no_bwd(&Col2im(conv::Geometry::of(&dims)?))?,
        ))
    }
}

/// col2im: the gradient of [`im2col3x3`].
struct Col2im(conv::Geometry);

impl CustomOp1 for Col2im {
    fn name(&self) -> &'static str {
        "cruxlab-col2im3x3"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let p = self.0;
        let out = p.sum_patches(contiguous(s, l, "col2im")?);
        let b = out.len() / p.image();
        Ok((CpuStorage::F32(out), Shape::from((b, p.h, p.w, p.c))))
    }
}

/// The patch matrix of a 3x3 same-padded convolution: `[B, H, W, C] -> [B*H*W, 9*C]`, row
/// `(b, r, q)` holding the 3x3 neighbourhood of pixel `(r, q)` tap-major (`(dr*3 + dq)*C + c`),
/// zeros outside the image.
pub fn im2col3x3(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(Im2col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn t(v: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_slice(v, shape, &Device::Cpu).unwrap()
    }

    #[test]
    fn matmul_matches_candle_and_handles_transposed_views() {
        let a = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let b = t(&[1., 0., -1., 2., 0.5, 1.], &[3, 2]);
        let ours = matmul(&a, &b).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(ours, a.matmul(&b).unwrap().to_vec2::<f32>().unwrap());
        let at = a.t().unwrap();
        let ours_t = matmul(&at.t().unwrap(), &b)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(ours_t, ours);
    }

    #[test]
    fn matmul_gradients_match_candle() {
        let a = Var::from_tensor(&t(&[1., 2., 3., 4., 5., 6.], &[2, 3])).unwrap();
        let b = Var::from_tensor(&t(&[1., 0., -1., 2., 0.5, 1.], &[3, 2])).unwrap();
        let w = t(&[1., -2., 3., 0.5], &[2, 2]);
        let ours = (matmul(&a, &b).unwrap() * &w).unwrap().sum_all().unwrap();
        let theirs = (a.matmul(&b).unwrap() * &w).unwrap().sum_all().unwrap();
        let (g1, g2) = (ours.backward().unwrap(), theirs.backward().unwrap());
        for v in [&a, &b] {
            let x = g1.get(v).unwrap().to_vec2::<f32>().unwrap();
            let y = g2.get(v).unwrap().to_vec2::<f32>().unwrap();
            assert_eq!(x, y);
        }
    }

    #[test]
    fn affine_relu_matches_the_composed_ops_and_their_gradients() {
        // Pre-activations include negatives, positives and exact zeros' neighbours.
        let x = Var::from_tensor(&t(&[1., -2., 0.5, 3., 0.25, -1.], &[3, 2])).unwrap();
        let w = Var::from_tensor(&t(&[0.5, -1., 2., 1., 0.25, -0.5], &[2, 3])).unwrap();
        let b = Var::from_tensor(&t(&[0.1, -0.2, 0.3], &[3])).unwrap();
        let mix = t(&[1., -2., 3., 0.5, 1.5, -1., 2., 0.25, -0.75], &[3, 3]);
        let fused = affine_relu(&x, &w, &b).unwrap();
        let composed = x
            .matmul(&w)
            .unwrap()
            .broadcast_add(&b)
            .unwrap()
            .relu()
            .unwrap();
        assert_eq!(
            fused.to_vec2::<f32>().unwrap(),
            composed.to_vec2::<f32>().unwrap()
        );
        let g1 = (fused * &mix)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g2 = (composed * &mix)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for v in [&x, &w, &b] {
            let a = g1
                .get(v)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let c = g2
                .get(v)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            for (p, q) in a.iter().zip(&c) {
                assert!((p - q).abs() < 1e-5, "{a:?} vs {c:?}");
            }
        }
        // A NaN input stays NaN instead of being rectified to 0.
        let nan = t(&[f32::NAN, 1.], &[1, 2]);
        let y = affine_relu(&nan, w.as_tensor(), b.as_tensor()).unwrap();
        assert!(y.to_vec2::<f32>().unwrap()[0].iter().all(|v| v.is_nan()));
    }

    fn close_all(a: &Tensor, b: &Tensor) {
        let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(a.len(), b.len());
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-4, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn fused_convolution_matches_the_composed_ops_and_their_gradients() {
        // Two 3x4 images with 2 channels into 3 channels; a second layer reads the first so that
        // the input gradient is exercised too.
        let wave = |n: usize, f: f32, s: f32| -> Vec<f32> {
            (0..n).map(|i| (i as f32 * f).sin() * s).collect()
        };
        let x = Var::from_tensor(&t(&wave(2 * 3 * 4 * 2, 0.7, 1.0), &[2, 3, 4, 2])).unwrap();
        let w1 = Var::from_tensor(&t(&wave(18 * 3, 0.31, 0.5), &[18, 3])).unwrap();
        let b1 = Var::from_tensor(&t(&[0.05, -0.1, 0.2], &[3])).unwrap();
        let w2 = Var::from_tensor(&t(&wave(27 * 2, 0.53, 0.5), &[27, 2])).unwrap();
        let b2 = Var::from_tensor(&t(&[0.1, -0.05], &[2])).unwrap();
        let mix = t(&wave(2 * 3 * 4 * 2, 1.3, 1.0), &[2, 3, 4, 2]);
        let fused = conv3x3_relu(&conv3x3_relu(&x, &w1, &b1).unwrap(), &w2, &b2).unwrap();
        let layer = |a: &Tensor, w: &Tensor, b: &Tensor, o: usize| {
            im2col3x3(a)
                .unwrap()
                .matmul(w)
                .unwrap()
                .broadcast_add(b)
                .unwrap()
                .relu()
                .unwrap()
                .reshape((2, 3, 4, o))
                .unwrap()
        };
        let composed = layer(&layer(&x, &w1, &b1, 3), &w2, &b2, 2);
        close_all(&fused, &composed);
        let g1 = (fused * &mix)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g2 = (composed * &mix)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for v in [&x, &w1, &b1, &w2, &b2] {
            close_all(g1.get(v).unwrap(), g2.get(v).unwrap());
        }
    }

    #[test]
    fn gemm_threads_do_not_change_results() {
        let n = 97 * 61;
        let a: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 977.0 - 0.5)
            .collect();
        let b: Vec<f32> = (0..61 * 203)
            .map(|i| ((i * 104729) % 1000) as f32 / 991.0)
            .collect();
        let (a, b) = (t(&a, &[97, 61]), t(&b, &[61, 203]));
        set_gemm_threads(1);
        let one = matmul(&a, &b)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        set_gemm_threads(2);
        let two = matmul(&a, &b)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        set_gemm_threads(1);
        assert_eq!(one, two);
    }

    #[test]
    fn im2col_places_taps_and_zero_pads() {
        // One 2x2 image with one channel: pixels 1 2 / 3 4.
        let x = t(&[1., 2., 3., 4.], &[1, 2, 2, 1]);
        let cols = im2col3x3(&x).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(cols.len(), 4);
        // Pixel (0, 0): taps (dr, dq) over rows -1..=1, cols -1..=1.
        assert_eq!(cols[0], vec![0., 0., 0., 0., 1., 2., 0., 3., 4.]);
        // Pixel (1, 1).
        assert_eq!(cols[3], vec![1., 2., 0., 3., 4., 0., 0., 0., 0.]);
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), y> == <x, col2im(y)> for random x, y.
        let x: Vec<f32> = (0..2 * 3 * 4 * 2)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let x = Var::from_tensor(&t(&x, &[2, 3, 4, 2])).unwrap();
        let cols = im2col3x3(&x).unwrap();
        let y: Vec<f32> = (0..cols.elem_count())
            .map(|i| (i as f32 * 0.11).cos())
            .collect();
        let y = t(&y, cols.dims());
        let lhs = (cols * &y).unwrap().sum_all().unwrap();
        let grad = lhs.backward().unwrap();
        let gx = grad.get(&x).unwrap();
        let rhs = (gx * x.as_tensor()).unwrap().sum_all().unwrap();
        let (l, r) = (
            lhs.to_scalar::<f32>().unwrap(),
            rhs.to_scalar::<f32>().unwrap(),
        );
        assert!((l - r).abs() < 1e-4, "{l} vs {r}");
    }
}
