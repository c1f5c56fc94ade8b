//! Rendering levels as pictures.
//!
//! [`render_png`] draws one square tile per cell: dark walls, pale floor, and a distinct colour *and*
//! shape per thing (blue disc agent, cyan rhombus diamond, yellow wedge cheese, brown key), so the
//! pictures still read in greyscale. With a cue field the floor is tinted towards cyan by the cue
//! strength `0.9^d`, making the diamond's scent visible. The agent is drawn smaller than the objects
//! so an object it stands on still shows around it. The text rendering is [`Level::to_text`].

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::obs::cue_value;
use crate::{DistanceField, Level, ObjectKind, Pos};

const WALL: [u8; 3] = [44, 48, 58];
const FLOOR: [u8; 3] = [238, 234, 222];
const GRID_LINE: [u8; 3] = [214, 209, 196];
const CUE_TINT: [u8; 3] = [150, 214, 232];
const AGENT: [u8; 3] = [40, 92, 210];
const DIAMOND: [u8; 3] = [0, 176, 214];
const CHEESE: [u8; 3] = [242, 190, 20];
const KEY: [u8; 3] = [150, 92, 34];
const OUTLINE: [u8; 3] = [30, 30, 30];
const HEAT: [u8; 3] = [232, 110, 30];
const TRAIL: [u8; 3] = [120, 20, 40];

/// The picture of `level`, `tile x tile` pixels per cell (`tile` at least 1; 16 or more shows the
/// shapes well), with the floor tinted by `cue` when given.
pub fn render_png(level: &Level, cue: Option<&DistanceField>, tile: u32) -> RgbImage {
    assert!(tile >= 1, "tiles need at least one pixel");
    let (w, h) = (level.width() as u32 * tile, level.height() as u32 * tile);
    let mut img = RgbImage::new(w, h);
    for row in 0..level.height() {
        for col in 0..level.width() {
            let pos = Pos::new(row, col);
            let base = if level.is_wall(pos) {
                WALL
            } else {
                let strength = cue.and_then(|c| c.get(pos)).map_or(0.0, cue_value);
                mix(FLOOR, CUE_TINT, strength)
            };
            let object = level.object_at(pos).map(|o| o.kind);
            let agent = pos == level.agent();
            for dy in 0..tile {
                for dx in 0..tile {
                    // Pixel centre in tile coordinates, [-1, 1] on both axes.
                    let u = (dx as f32 + 0.5) / tile as f32 * 2.0 - 1.0;
                    let v = (dy as f32 + 0.5) / tile as f32 * 2.0 - 1.0;
                    let edge = tile >= 8 && (dx == 0 || dy == 0) && !level.is_wall(pos);
                    let mut colour = if edge {
                        mix(base, GRID_LINE, 0.8)
                    } else {
                        base
                    };
                    if let Some(kind) = object {
                        colour = paint_object(kind, u, v, colour);
                    }
                    if agent {
                        colour = shade(disc(u, v, 0.5), disc(u, v, 0.42), AGENT, colour);
                    }
                    img.put_pixel(col as u32 * tile + dx, row as u32 * tile + dy, Rgb(colour));
                }
            }
        }
    }
    img
}

/// What one episode looked like from inside a planner: the level as it started, floor tinted from
/// pale to deep orange by how many times the planner expanded each cell (`heat`, row-major, on a log
/// scale), and the cells the agent walked through marked with small dark dots.
pub fn render_trace(level: &Level, heat: &[u32], path: &[Pos], tile: u32) -> RgbImage {
    assert_eq!(heat.len(), level.cells(), "one heat value per cell");
    let mut img = render_png(level, None, tile);
    let top = heat.iter().copied().max().unwrap_or(0).max(1) as f32;
    let mut walked = vec![false; level.cells()];
    for p in path {
        if level.in_bounds(*p) {
            walked[level.index(*p)] = true;
        }
    }
    for row in 0..level.height() {
        for col in 0..level.width() {
            let pos = Pos::new(row, col);
            let i = level.index(pos);
            if level.is_wall(pos) || (heat[i] == 0 && !walked[i]) {
                continue;
            }
            let strength = (1.0 + heat[i] as f32).ln() / (1.0 + top).ln();
            for dy in 0..tile {
                for dx in 0..tile {
                    let (x, y) = (col as u32 * tile + dx, row as u32 * tile + dy);
                    let px = img.get_pixel(x, y).0;
                    let u = (dx as f32 + 0.5) / tile as f32 * 2.0 - 1.0;
                    let v = (dy as f32 + 0.5) / tile as f32 * 2.0 - 1.0;
                    // Only recolour plain floor pixels, so objects and the agent stay visible.
                    let floor_like = px == FLOOR || px == mix(FLOOR, GRID_LINE, 0.8);
                    let mut colour = if floor_like && heat[i] > 0 {
                        mix(px, HEAT, 0.15 + 0.85 * strength)
                    } else {
                        px
                    };
                    if walked[i] && floor_like && disc(u, v, 0.2) {
                        colour = TRAIL;
                    }
                    img.put_pixel(x, y, Rgb(colour));
                }
            }
        }
    }
    img
}

/// PNG bytes of a picture (for atomic writes by the caller).
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)?;
    Ok(bytes.into_inner())
}

/// Render and write a PNG file.
pub fn save_png(
    level: &Level,
    cue: Option<&DistanceField>,
    tile: u32,
    path: impl AsRef<Path>,
) -> Result<(), image::ImageError> {
    render_png(level, cue, tile).save_with_format(path, image::ImageFormat::Png)
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (a[i] as f32 + (b[i] as f32 - a[i] as f32) * t).round() as u8)
}

fn disc(u: f32, v: f32, r: f32) -> bool {
    u * u + v * v <= r * r
}

/// `fill` inside `inner`, a dark outline where only `outer` holds, else `under`.
fn shade(outer: bool, inner: bool, fill: [u8; 3], under: [u8; 3]) -> [u8; 3] {
    match (outer, inner) {
        (_, true) => fill,
        (true, false) => OUTLINE,
        _ => under,
    }
}

fn paint_object(kind: ObjectKind, u: f32, v: f32, under: [u8; 3]) -> [u8; 3] {
    match kind {
        ObjectKind::Diamond => {
            let d = u.abs() + v.abs();
            shade(d <= 0.78, d <= 0.66, DIAMOND, under)
        }
        ObjectKind::Cheese => {
            // A wedge: apex up, flat base, two holes.
            let inside = |grow: f32| {
                (-0.7 - grow..=0.6 + grow).contains(&v)
                    && u.abs() <= 0.06 + grow + 0.76 * (v + 0.7) / 1.3
            };
            let hole = disc(u + 0.22, v - 0.3, 0.12) || disc(u - 0.25, v - 0.36, 0.1);
            shade(inside(0.09), inside(0.0) && !hole, CHEESE, under)
        }
        ObjectKind::Key => {
            let inside = |grow: f32| {
                let ring = disc(u + 0.42, v + 0.05, 0.36 + grow)
                    && !disc(u + 0.42, v + 0.05, (0.15 - grow).max(0.0));
                let shaft =
                    (-0.07 - grow..=0.12 + grow).contains(&v) && (-0.15..=0.8 + grow).contains(&u);
                let tooth = |c: f32| {
                    (c - 0.08 - grow..=c + 0.08 + grow).contains(&u)
                        && (0.0..=0.4 + grow).contains(&v)
                };
                ring || shaft || tooth(0.45) || tooth(0.7)
            };
            shade(inside(0.08), inside(0.0), KEY, under)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_have_the_right_colours() {
        let level = Level::parse("#####\n#A.D#\n#C.K#\n#####\n").unwrap();
        let img = render_png(&level, None, 16);
        assert_eq!(img.dimensions(), (80, 64));
        assert_eq!(img.get_pixel(3, 3).0, WALL);
        // Tile centres: agent, diamond, cheese, key; plain floor at (1, 2).
        let centre = |r: u32, c: u32| img.get_pixel(c * 16 + 8, r * 16 + 8).0;
        assert_eq!(centre(1, 1), AGENT);
        assert_eq!(centre(1, 3), DIAMOND);
        assert_eq!(centre(2, 1), CHEESE);
        assert_eq!(centre(2, 3), KEY);
        assert_eq!(centre(1, 2), FLOOR);
    }

    #[test]
    fn cue_tints_floor_near_the_diamond() {
        let level = Level::parse("#######\n#A...D#\n#######\n").unwrap();
        let cue = DistanceField::from_sources(&level, level.positions_of(ObjectKind::Diamond));
        let img = render_png(&level, Some(&cue), 8);
        let near = img.get_pixel(4 * 8 + 4, 8 + 4).0;
        let far = img.get_pixel(2 * 8 + 4, 8 + 4).0;
        assert_ne!(near, far);
        assert!(near[0] < far[0], "closer cells are more strongly tinted");
    }
}
