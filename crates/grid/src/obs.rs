//! Observations: what a policy sees of a level.
//!
//! Two encodings of the same fully observed state:
//!
//! - **Compact** (`u8`, `H x W`, row-major): one code per cell, see [`code`]. The agent is drawn over
//!   whatever object it stands on. Cheap to step and copy; a policy network would usually embed it.
//! - **Planes** (`f32`, `C x H x W`, channel-major like PyTorch's NCHW without the N): one-hot planes
//!   for walls, the agent and each object kind, plus the **cue** plane `0.9^d` where `d` is the
//!   breadth-first distance to the nearest cue-source object (diamonds; 1.0 on the diamond itself,
//!   0.0 where no diamond is reachable and on walls). The cue is the scent that makes "follow the
//!   diamond" learnable; it is what a goal-misgeneralisation experiment takes away or moves. Channel
//!   order is fixed by the `CH_*` constants.
//!
//! The `write_*` functions fill caller-provided buffers (no allocation, unless a cue field has to be
//! grown); [`Observation`] is the owning form a single [`crate::Env`] returns. Every plane
//! observation in cruxlab comes from [`write_plane_selection`], which can also pick a subset of the
//! planes and lay them out channels-last (as the learned agents' networks read them).

use crate::{DistanceField, Level, ObjectKind};

/// Cell codes of the compact observation.
pub mod code {
    use crate::ObjectKind;

    pub const FLOOR: u8 = 0;
    pub const WALL: u8 = 1;
    pub const AGENT: u8 = 2;
    pub const DIAMOND: u8 = 3;
    pub const CHEESE: u8 = 4;
    pub const KEY: u8 = 5;
    /// Number of distinct codes (codes are `0..COUNT`).
    pub const COUNT: u8 = 6;

    /// The code of an object kind (`DIAMOND`, `CHEESE` or `KEY`).
    pub const fn object(kind: ObjectKind) -> u8 {
        DIAMOND + kind as u8
    }

    /// The object kind a code stands for, if it is an object code.
    pub const fn kind(code: u8) -> Option<ObjectKind> {
        match code {
            DIAMOND => Some(ObjectKind::Diamond),
            CHEESE => Some(ObjectKind::Cheese),
            KEY => Some(ObjectKind::Key),
            _ => None,
        }
    }
}

/// Plane holding 1.0 on walls.
pub const CH_WALL: usize = 0;
/// Plane holding 1.0 on the agent's cell.
pub const CH_AGENT: usize = 1;
/// Plane holding 1.0 on diamonds.
pub const CH_DIAMOND: usize = 2;
/// Plane holding 1.0 on cheese.
pub const CH_CHEESE: usize = 3;
/// Plane holding 1.0 on keys.
pub const CH_KEY: usize = 4;
/// Plane holding the cue `CUE_DECAY^d` (d = distance to the nearest diamond; 0.0 where unreachable).
pub const CH_CUE: usize = 5;
/// Number of planes.
pub const CHANNELS: usize = 6;
/// Per-step decay of the cue with distance from its source.
pub const CUE_DECAY: f32 = 0.9;

/// The plane of an object kind (`CH_DIAMOND`, `CH_CHEESE` or `CH_KEY`).
pub const fn object_channel(kind: ObjectKind) -> usize {
    CH_DIAMOND + kind as usize
}

/// Which observation encoding an environment produces.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ObsKind {
    /// `H x W` u8 codes.
    #[default]
    Compact,
    /// `C x H x W` f32 one-hot planes plus the cue plane.
    Planes,
}

impl ObsKind {
    /// Number of scalars in one observation of a `height x width` level.
    pub fn len(self, height: usize, width: usize) -> usize {
        match self {
            ObsKind::Compact => height * width,
            ObsKind::Planes => CHANNELS * height * width,
        }
    }
}

impl std::str::FromStr for ObsKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "compact" => Ok(ObsKind::Compact),
            "planes" => Ok(ObsKind::Planes),
            _ => Err(format!(
                "unknown observation kind '{s}' (expected compact or planes)"
            )),
        }
    }
}

/// Write the compact encoding of `level` into `out` (`height * width` cells, row-major).
///
/// # Panics
/// If `out` has the wrong length.
pub fn write_compact(level: &Level, out: &mut [u8]) {
    assert_eq!(
        out.len(),
        level.cells(),
        "compact observation buffer has the wrong length"
    );
    for (o, &wall) in out.iter_mut().zip(level.walls()) {
        *o = if wall { code::WALL } else { code::FLOOR };
    }
    for obj in level.objects() {
        out[level.index(obj.pos)] = code::object(obj.kind);
    }
    out[level.index(level.agent())] = code::AGENT;
}

/// The cue value for a distance-field entry: `CUE_DECAY^d`, or 0.0 when unreachable.
pub fn cue_value(distance: u32) -> f32 {
    if distance == DistanceField::UNREACHABLE {
        0.0
    } else {
        CUE_DECAY.powi(distance.min(i32::MAX as u32) as i32)
    }
}

/// Every plane, in channel order (`CH_WALL..CHANNELS`).
pub const ALL_CHANNELS: [usize; CHANNELS] =
    [CH_WALL, CH_AGENT, CH_DIAMOND, CH_CHEESE, CH_KEY, CH_CUE];

/// The cue field of `level`: breadth-first distance from every floor cell to the nearest
/// [`ObjectKind::CUE_SOURCE`] object.
pub fn cue_field(level: &Level) -> DistanceField {
    DistanceField::from_sources(level, level.positions_of(ObjectKind::CUE_SOURCE))
}

/// How [`write_plane_selection`] lays the planes out in its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `C x H x W`: plane `k` is `out[k * H * W..(k + 1) * H * W]` (PyTorch's NCHW without the N).
    ChannelsFirst,
    /// `H x W x C`: cell `i`'s value in plane `k` is `out[i * C + k]`.
    ChannelsLast,
}

/// Write the plane encoding of `level` into `out` (`CHANNELS * height * width`, channel-major).
/// `cue` must be the level's cue field (distance to the nearest [`ObjectKind::CUE_SOURCE`]).
///
/// # Panics
/// If `out` has the wrong length or `cue` covers a different number of cells.
pub fn write_planes(level: &Level, cue: &DistanceField, out: &mut [f32]) {
    assert_eq!(
        out.len(),
        CHANNELS * level.cells(),
        "plane observation buffer has the wrong length"
    );
    write_plane_selection(level, &ALL_CHANNELS, Some(cue), Layout::ChannelsFirst, out);
}

/// The plane encoder every caller shares: write the planes `channels` (`CH_*` indices, in this
/// order, as output planes `0..channels.len()`) of `level` into `out` (`channels.len() * height *
/// width` floats) in `layout`. `cue` is the level's cue field; it is read only when [`CH_CUE`] is
/// among the channels, and grown from the level ([`cue_field`]) when `None`.
///
/// # Panics
/// If `out` has the wrong length, a channel is not below [`CHANNELS`], or `cue` covers a different
/// number of cells.
pub fn write_plane_selection(
    level: &Level,
    channels: &[usize],
    cue: Option<&DistanceField>,
    layout: Layout,
    out: &mut [f32],
) {
    match layout {
        Layout::ChannelsFirst => {
            let hw = level.cells();
            fill_planes(level, channels, cue, out, |k, cell| k * hw + cell)
        }
        Layout::ChannelsLast => {
            let c = channels.len();
            fill_planes(level, channels, cue, out, |k, cell| cell * c + k)
        }
    }
}

/// [`write_plane_selection`] with the layout as an index function (output plane, cell) -> offset.
fn fill_planes(
    level: &Level,
    channels: &[usize],
    cue: Option<&DistanceField>,
    out: &mut [f32],
    at: impl Fn(usize, usize) -> usize,
) {
    let hw = level.cells();
    assert_eq!(
        out.len(),
        channels.len() * hw,
        "observation buffer has the wrong length"
    );
    out.fill(0.0);
    for (k, &channel) in channels.iter().enumerate() {
        match channel {
            CH_WALL => {
                for (cell, &wall) in level.walls().iter().enumerate() {
                    out[at(k, cell)] = if wall { 1.0 } else { 0.0 };
                }
            }
            CH_AGENT => out[at(k, level.index(level.agent()))] = 1.0,
            CH_DIAMOND | CH_CHEESE | CH_KEY => {
                for obj in level.objects() {
                    if object_channel(obj.kind) == channel {
                        out[at(k, level.index(obj.pos))] = 1.0;
                    }
                }
            }
            CH_CUE => {
                let owned;
                let field = match cue {
                    Some(field) => field,
                    None => {
                        owned = cue_field(level);
                        &owned
                    }
                };
                assert_eq!(
                    field.as_slice().len(),
                    hw,
                    "cue field covers a different level"
                );
                for (cell, &d) in field.as_slice().iter().enumerate() {
                    out[at(k, cell)] = cue_value(d);
                }
            }
            _ => panic!("no observation plane {channel} (there are {CHANNELS})"),
        }
    }
}

/// A compact observation: `height x width` cell codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactObs {
    pub height: usize,
    pub width: usize,
    /// Row-major codes from [`code`].
    pub cells: Vec<u8>,
}

/// A plane observation: `CHANNELS x height x width` floats.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanesObs {
    pub height: usize,
    pub width: usize,
    /// Channel-major values; plane `c` is `data[c * height * width..(c + 1) * height * width]`.
    pub data: Vec<f32>,
}

impl PlanesObs {
    /// One plane (`CH_*`), row-major.
    pub fn plane(&self, channel: usize) -> &[f32] {
        let hw = self.height * self.width;
        &self.data[channel * hw..(channel + 1) * hw]
    }
}

/// One observation, in the encoding the environment was built with.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    Compact(CompactObs),
    Planes(PlanesObs),
}

impl Observation {
    /// Encode `level`. `cue` yields the level's cue field; it is called only for planes.
    pub fn encode<'a>(
        kind: ObsKind,
        level: &Level,
        cue: impl FnOnce() -> &'a DistanceField,
    ) -> Observation {
        let (height, width) = (level.height(), level.width());
        match kind {
            ObsKind::Compact => {
                let mut cells = vec![0; level.cells()];
                write_compact(level, &mut cells);
                Observation::Compact(CompactObs {
                    height,
                    width,
                    cells,
                })
            }
            ObsKind::Planes => {
                let mut data = vec![0.0; CHANNELS * level.cells()];
                write_planes(level, cue(), &mut data);
                Observation::Planes(PlanesObs {
                    height,
                    width,
                    data,
                })
            }
        }
    }

    pub fn kind(&self) -> ObsKind {
        match self {
            Observation::Compact(_) => ObsKind::Compact,
            Observation::Planes(_) => ObsKind::Planes,
        }
    }

    /// `[channels, height, width]`; compact observations have one channel.
    pub fn shape(&self) -> [usize; 3] {
        match self {
            Observation::Compact(o) => [1, o.height, o.width],
            Observation::Planes(o) => [CHANNELS, o.height, o.width],
        }
    }

    /// The cell codes, if this is a compact observation.
    pub fn as_compact(&self) -> Option<&[u8]> {
        match self {
            Observation::Compact(o) => Some(&o.cells),
            Observation::Planes(_) => None,
        }
    }

    /// The plane data, if this is a plane observation.
    pub fn as_planes(&self) -> Option<&[f32]> {
        match self {
            Observation::Compact(_) => None,
            Observation::Planes(o) => Some(&o.data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pos;

    #[test]
    fn compact_draws_agent_over_objects() {
        let mut level = Level::parse("#####\n#A.D#\n#C.K#\n#####\n").unwrap();
        let mut out = vec![9; level.cells()];
        write_compact(&level, &mut out);
        assert_eq!(
            &out[5..10],
            &[
                code::WALL,
                code::AGENT,
                code::FLOOR,
                code::DIAMOND,
                code::WALL
            ]
        );
        assert_eq!(
            &out[10..15],
            &[code::WALL, code::CHEESE, code::FLOOR, code::KEY, code::WALL]
        );
        level.set_agent(Pos::new(2, 3));
        write_compact(&level, &mut out);
        assert_eq!(out[level.index(Pos::new(2, 3))], code::AGENT);
        assert_eq!(out[level.index(Pos::new(1, 1))], code::FLOOR);
        assert_eq!(code::kind(code::KEY), Some(ObjectKind::Key));
        assert_eq!(code::kind(code::AGENT), None);
        assert_eq!(code::kind(code::COUNT), None);
    }

    #[test]
    fn planes_are_one_hot_with_cue() {
        let level = Level::parse("#####\n#A.D#\n#C#K#\n#####\n").unwrap();
        let cue = DistanceField::from_sources(&level, level.positions_of(ObjectKind::Diamond));
        let obs = Observation::encode(ObsKind::Planes, &level, || &cue);
        let Observation::Planes(p) = &obs else {
            panic!("expected planes")
        };
        assert_eq!(obs.shape(), [CHANNELS, 4, 5]);
        let at = |r: usize, c: usize| r * 5 + c;
        assert_eq!(p.plane(CH_WALL)[at(0, 0)], 1.0);
        assert_eq!(p.plane(CH_WALL)[at(1, 1)], 0.0);
        assert_eq!(p.plane(CH_AGENT)[at(1, 1)], 1.0);
        assert_eq!(p.plane(CH_AGENT).iter().sum::<f32>(), 1.0);
        assert_eq!(p.plane(CH_DIAMOND)[at(1, 3)], 1.0);
        assert_eq!(p.plane(CH_CHEESE)[at(2, 1)], 1.0);
        assert_eq!(p.plane(CH_KEY)[at(2, 3)], 1.0);
        assert_eq!(p.plane(CH_CUE)[at(1, 3)], 1.0);
        assert!((p.plane(CH_CUE)[at(1, 1)] - 0.81).abs() < 1e-6);
        assert!((p.plane(CH_CUE)[at(2, 1)] - 0.729).abs() < 1e-6);
        assert_eq!(p.plane(CH_CUE)[at(0, 0)], 0.0);
        assert_eq!(p.plane(CH_CUE)[at(2, 2)], 0.0);
    }

    #[test]
    fn a_selection_is_the_chosen_planes_transposed() {
        let level = Level::parse("######\n#A.D.#\n#C#K##\n#..D.#\n######\n").unwrap();
        let hw = level.cells();
        let mut all = vec![0.0; CHANNELS * hw];
        write_planes(&level, &cue_field(&level), &mut all);
        let channels = [
            CH_CUE, CH_AGENT, CH_KEY, CH_WALL, CH_CUE, CH_DIAMOND, CH_CHEESE,
        ];
        let c = channels.len();
        let mut last = vec![7.0; c * hw];
        write_plane_selection(&level, &channels, None, Layout::ChannelsLast, &mut last);
        let mut first = vec![7.0; c * hw];
        write_plane_selection(&level, &channels, None, Layout::ChannelsFirst, &mut first);
        for (k, &ch) in channels.iter().enumerate() {
            for cell in 0..hw {
                let v = all[ch * hw + cell];
                assert_eq!(last[cell * c + k].to_bits(), v.to_bits());
                assert_eq!(first[k * hw + cell].to_bits(), v.to_bits());
            }
        }
    }
}
