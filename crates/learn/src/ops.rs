//! The two operations the networks spend their time in, written as candle custom ops so that their
//! backward passes are matrix products and plain loops rather than general strided kernels.
//!
//! - [`matmul`]: a 2-D matrix product through the `gemm` crate (the kernel candle itself calls),
//!   with its parallelism under our control ([`set_gemm_threads`]). Training runs one per
//!   experiment unit and units already fill the cores, so the default is one thread, which also
//!   keeps rayon (and its work stealing) out of training altogether.
//! - [`im2col3x3`]: the patch matrix of a 3x3, stride-1, zero-padded convolution over a
//!   channels-last batch `[B, H, W, C] -> [B*H*W, 9*C]`, so that a convolution is one `matmul`
//!   (the usual im2col lowering). Its gradient is the matching col2im sum.

use std::sync::atomic::{AtomicUsize, Ordering};

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor, bail};

static GEMM_THREADS: AtomicUsize = AtomicUsize::new(1);

/// Threads each matrix product may use (default 1). This changes speed only: `gemm` splits the
/// output into blocks and sums every dot product in the same order whatever the thread count
/// (checked by a test).
pub fn set_gemm_threads(threads: usize) {
    GEMM_THREADS.store(threads.max(1), Ordering::Relaxed);
}

/// Threads each matrix product may use.
pub fn gemm_threads() -> usize {
    GEMM_THREADS.load(Ordering::Relaxed)
}

fn f32_slice<'a>(s: &'a CpuStorage, what: &str) -> Result<&'a [f32]> {
    match s {
        CpuStorage::F32(v) => Ok(v),
        _ => bail!("{what}: only f32 tensors are supported"),
    }
}

/// `out[m, n] = a[m, k] b[k, n]` for row- or column-strided 2-D operands (transposed views are
/// free), into a fresh contiguous buffer.
///
/// # Safety (internal)
/// The strides come from candle layouts whose extents cover `m x k` and `k x n`.
fn gemm_into(out: &mut [f32], a: &[f32], la: &Layout, b: &[f32], lb: &Layout) -> Result<()> {
    let (da, db) = (la.dims(), lb.dims());
    if da.len() != 2 || db.len() != 2 || da[1] != db[0] {
        bail!("matmul: shapes {da:?} and {db:?} do not chain");
    }
    let (m, k, n) = (da[0], da[1], db[1]);
    assert_eq!(out.len(), m * n);
    if m == 0 || n == 0 {
        return Ok(());
    }
    let (sa, sb) = (la.stride(), lb.stride());
    let a = &a[la.start_offset()..];
    let b = &b[lb.start_offset()..];
    let threads = gemm_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the pointers cover the strided extents described by the layouts (checked by candle
    // when the views were made), and `out` is a distinct, contiguous m x n buffer.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            sa[1] as isize,
            sa[0] as isize,
            b.as_ptr(),
            sb[1] as isize,
            sb[0] as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
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
        let (a, b) = (f32_slice(s1, "matmul")?, f32_slice(s2, "matmul")?);
        let (m, n) = (l1.dims()[0], l2.dims()[1]);
        let mut out = vec![0.0f32; m * n];
        gemm_into(&mut out, a, l1, b, l2)?;
        Ok((CpuStorage::F32(out), Shape::from((m, n))))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        // d(ab)/da = grad b^T, d(ab)/db = a^T grad; skip the side that needs no gradient (the
        // observation's patch matrix in a first layer).
        let ga = if a.track_op() {
            Some(grad.apply_op2_no_bwd(&b.t()?, &MatMul)?)
        } else {
            None
        };
        let gb = if b.track_op() {
            Some(a.t()?.apply_op2_no_bwd(grad, &MatMul)?)
        } else {
            None
        };
        Ok((ga, gb))
    }
}

/// 2-D matrix product `[m, k] x [k, n] -> [m, n]` with a gradient, through `gemm`.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.apply_op2(b, MatMul)
}

/// Geometry of a 3x3, stride-1, zero-padded convolution over channels-last images.
#[derive(Clone, Copy, Debug)]
struct Patches {
    h: usize,
    w: usize,
    c: usize,
}

impl Patches {
    /// Call `f(row_offset_in_patch_matrix, offset_in_image)` for every in-bounds (cell, tap):
    /// patch row `r * w + q` holds tap `(dr, dq)` at columns `(dr * 3 + dq) * c ..`.
    #[inline]
    fn for_each_tap(&self, mut f: impl FnMut(usize, usize)) {
        let (h, w, c) = (self.h, self.w, self.c);
        for r in 0..h {
            for q in 0..w {
                let row = (r * w + q) * 9 * c;
                for dr in 0..3 {
                    let rr = r + dr;
                    if rr == 0 || rr > h {
                        continue;
                    }
                    for dq in 0..3 {
                        let qq = q + dq;
                        if qq == 0 || qq > w {
                            continue;
                        }
                        f(row + (dr * 3 + dq) * c, ((rr - 1) * w + qq - 1) * c);
                    }
                }
            }
        }
    }
}

impl CustomOp1 for Patches {
    fn name(&self) -> &'static str {
        "cruxlab-im2col3x3"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let Some((start, end)) = l.contiguous_offsets() else {
            bail!("im2col: the input must be contiguous");
        };
        let x = &f32_slice(s, "im2col")?[start..end];
        let image = self.h * self.w * self.c;
        let b = x.len() / image;
        let rows = self.h * self.w * 9 * self.c;
        let mut out = vec![0.0f32; b * rows];
        for (img, cols) in x.chunks_exact(image).zip(out.chunks_exact_mut(rows)) {
            self.for_each_tap(|dst, src| {
                cols[dst..dst + self.c].copy_from_slice(&img[src..src + self.c]);
            });
        }
        Ok((
            CpuStorage::F32(out),
            Shape::from((b * self.h * self.w, 9 * self.c)),
        ))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad.contiguous()?.apply_op1_no_bwd(&PatchSum(*self))?))
    }
}

/// col2im: the gradient of [`im2col3x3`], summing every tap's gradient back onto its pixel.
struct PatchSum(Patches);

impl CustomOp1 for PatchSum {
    fn name(&self) -> &'static str {
        "cruxlab-col2im3x3"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let Some((start, end)) = l.contiguous_offsets() else {
            bail!("col2im: the input must be contiguous");
        };
        let g = &f32_slice(s, "col2im")?[start..end];
        let p = self.0;
        let rows = p.h * p.w * 9 * p.c;
        let image = p.h * p.w * p.c;
        let b = g.len() / rows;
        let mut out = vec![0.0f32; b * image];
        for (cols, img) in g.chunks_exact(rows).zip(out.chunks_exact_mut(image)) {
            p.for_each_tap(|src, dst| {
                for (d, s) in img[dst..dst + p.c].iter_mut().zip(&cols[src..src + p.c]) {
                    *d += s;
                }
            });
        }
        Ok((CpuStorage::F32(out), Shape::from((b, p.h, p.w, p.c))))
    }
}

/// The patch matrix of a 3x3 same-padded convolution: `[B, H, W, C] -> [B*H*W, 9*C]`, row
/// `(b, r, q)` holding the 3x3 neighbourhood of pixel `(r, q)` tap-major (`(dr*3 + dq)*C + c`),
/// zeros outside the image.
pub fn im2col3x3(x: &Tensor) -> Result<Tensor> {
    let (_, h, w, c) = x.dims4()?;
    x.contiguous()?.apply_op1(Patches { h, w, c })
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
