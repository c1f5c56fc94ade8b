//! Which build of the inner loops runs: AVX-512F, AVX2+FMA or portable Rust, chosen once from
//! what the processor has (or by name, to time the builds side by side). Every kernel written three
//! times (`crate::conv`, `crate::dense`) sums in one order whichever build runs, so the choice
//! changes speed only; elementwise loops ([`Kernel::vectorized`]) are compiled for the chosen
//! registers too, which cannot change a bit (each lane's arithmetic is the scalar loop's).

/// Lanes of one output-channel block (two 8-wide AVX2 registers, or one AVX-512 register).
pub(crate) const LANES: usize = 16;

/// Which build of the inner loops runs: the same sums in the same order, whichever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// Plain Rust, one lane at a time.
    Portable,
    /// AVX2 registers of 8 lanes and FMA; only chosen when the processor has both.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX-512F registers of 16 lanes (FMA included); only chosen when the processor has them.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// The build the kernels run: an index into [`Kernel::available`], or
/// `usize::MAX` for the best one. Only benchmarks change it ([`choose`]).
static CHOSEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);

/// Run the build named `name` (`portable`, `avx2` or `avx512`) from now on, in every thread, or
/// the best this processor has for `best`. Every build computes the same bits, so this changes
/// speed only; it exists to time the builds side by side. An unknown name, or one this processor
/// cannot run, is an error that lists those it can.
pub(crate) fn choose(name: &str) -> Result<(), String> {
    let i = index_of(name, Kernel::available())?;
    CHOSEN.store(i, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// The index of the build named `name` among `available` (`usize::MAX` for `best`).
fn index_of(name: &str, available: &[Kernel]) -> Result<usize, String> {
    if name == "best" {
        return Ok(usize::MAX);
    }
    match available.iter().position(|k| k.name() == name) {
        Some(i) => Ok(i),
        None => Err(format!(
            "convolution kernel {name:?}: this processor runs {} (or best)",
            available
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The name of the build that runs now.
pub(crate) fn chosen() -> &'static str {
    Kernel::best().name()
}

impl Kernel {
    /// The chosen build ([`choose`]); by default the fastest this processor has.
    pub(crate) fn best() -> Kernel {
        let available = Kernel::available();
        let i = CHOSEN.load(std::sync::atomic::Ordering::Relaxed);
        available[i.min(available.len() - 1)]
    }

    /// Every build this processor can run, in the order of their speed on the processors measured
    /// (docs/benchmarks.md), slowest first; detected once.
    pub(crate) fn available() -> &'static [Kernel] {
        static AVAILABLE: std::sync::OnceLock<Vec<Kernel>> = std::sync::OnceLock::new();
        AVAILABLE.get_or_init(|| {
            #[allow(unused_mut)]
            let mut out = vec![Kernel::Portable];
            #[cfg(target_arch = "x86_64")]
            {
                use std::arch::is_x86_feature_detected as has;
                if has!("avx2") && has!("fma") {
                    out.push(Kernel::Avx2);
                }
                if has!("avx512f") {
                    out.push(Kernel::Avx512);
                }
            }
            out
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => "avx512",
        }
    }

    /// Neighbouring output pixels per forward block: 5 with AVX2 (10 of its 16 registers hold
    /// sums), 10 with AVX-512 (of 32; more did not pay in `conv_speed`'s shapes).
    pub(crate) fn pixels(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => 10,
            _ => 5,
        }
    }

    /// A fully connected product's block (`crate::dense`): rows of the broadcast operand, and lane
    /// blocks of [`LANES`] columns. AVX-512: 12 x 2 (24 of 32 registers hold sums); AVX2: 6 x 1
    /// (12 of 16).
    pub(crate) fn dense_block(self) -> (usize, usize) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => (12, 2),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => (6, 1),
            Kernel::Portable => (4, 1),
        }
    }

    /// Weight rows (taps x input channels) per weight-gradient block.
    pub(crate) fn weight_rows(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => 16,
            _ => 6,
        }
    }

    /// `f()`, compiled for this build's registers: an elementwise loop in `f` runs 16 lanes at a
    /// time with AVX-512, 8 with AVX2. Each lane does the scalar loop's arithmetic (Rust never
    /// fuses a multiply and an add on its own), so the result is the same to the bit.
    #[inline(always)]
    pub(crate) fn vectorized<R>(self, f: impl FnOnce() -> R) -> R {
        match self {
            // SAFETY: a build is only chosen where the processor has its instructions.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { with_avx512(f) },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { with_avx2(f) },
            Kernel::Portable => f(),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_is_chosen_by_name_or_refused() {
        let all = Kernel::available();
        for (i, k) in all.iter().enumerate() {
            assert_eq!(index_of(k.name(), all), Ok(i));
        }
        assert_eq!(index_of("best", all), Ok(usize::MAX));
        assert!(index_of("avx2", &[Kernel::Portable]).is_err());
        let err = choose("avx7").unwrap_err();
        assert!(
            err.contains("\"avx7\"") && err.contains("portable"),
            "{err}"
        );
        choose("best").unwrap();
        assert_eq!(chosen(), Kernel::available().last().unwrap().name());
    }
}
