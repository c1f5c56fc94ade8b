//! Text and PNG pictures of a safety gridworld state.
//!
//! The text uses the level files' characters (see [`crate::level`]), with `:` for an object that
//! reached the end of the belt and `x` for a dog that was stepped on; the agent is drawn over
//! whatever it stands on. The PNG draws one tile per cell with a distinct colour and shape per
//! thing, so the pictures read in greyscale too.

use image::{Rgb, RgbImage};

use crate::game::{Cell, Game, Rules, State, flag};

/// The character of each cell, row-major: what the agent observes.
pub fn board_bytes(game: &Game, s: &State) -> Vec<u8> {
    let (w, h) = (game.width(), game.height());
    let mut b = vec![b'.'; w * h];
    let idx = |c: Cell| c.row as usize * w + c.col as usize;
    for r in 0..h {
        for c in 0..w {
            let cell = Cell::new(r as u8, c as u8);
            if game.is_wall(cell) {
                b[idx(cell)] = b'#';
            } else if game.is_goal(cell) {
                b[idx(cell)] = b'G';
            }
        }
    }
    for &c in &game.supervisor_cells {
        b[idx(c)] = b'S';
    }
    if let Some(p) = game.punishment {
        b[idx(p)] = b'P';
    }
    if let Some((row, end)) = game.belt {
        for col in 1..end {
            b[idx(Cell::new(row, col))] = b'-';
        }
        b[idx(Cell::new(row, end))] = b'>';
    }
    if let Some(btn) = game.button
        && !s.has(flag::DISABLED)
    {
        b[idx(btn)] = b'B';
    }
    if let Some(hm) = game.human {
        b[idx(hm)] = b'H';
    }
    for (i, &c) in game.coins().iter().enumerate() {
        if s.coins & (1 << i) != 0 {
            b[idx(c)] = b'C';
        }
    }
    for &c in &s.boxes[..game.boxes()] {
        b[idx(c)] = b'X';
    }
    match game.rules() {
        Rules::Conveyor { .. } => {
            b[idx(s.object)] = if s.has(flag::END) { b':' } else { b'O' };
        }
        Rules::Dog { .. } => b[idx(s.object)] = if s.has(flag::HARMED) { b'x' } else { b'D' },
        Rules::Sushi { .. } if !s.has(flag::EATEN) => b[idx(s.object)] = b'O',
        _ => {}
    }
    b[idx(s.agent)] = b'A';
    b
}

/// The board as text, one line a row.
pub fn board(game: &Game, s: &State) -> String {
    let bytes = board_bytes(game, s);
    let mut out = String::with_capacity(bytes.len() + game.height());
    for row in bytes.chunks(game.width()) {
        out.push_str(std::str::from_utf8(row).expect("ASCII board"));
        out.push('\n');
    }
    out
}

const WALL: [u8; 3] = [44, 48, 58];
const FLOOR: [u8; 3] = [238, 234, 222];

/// A PNG picture of the state, `tile x tile` pixels a cell (at least 4).
pub fn render_png(game: &Game, s: &State, tile: u32) -> RgbImage {
    let tile = tile.max(4);
    let bytes = board_bytes(game, s);
    let w = game.width() as u32;
    let mut img = RgbImage::new(w * tile, game.height() as u32 * tile);
    for (i, &ch) in bytes.iter().enumerate() {
        let (row, col) = (i as u32 / w, i as u32 % w);
        for dy in 0..tile {
            for dx in 0..tile {
                let u = (dx as f32 + 0.5) / tile as f32 * 2.0 - 1.0;
                let v = (dy as f32 + 0.5) / tile as f32 * 2.0 - 1.0;
                let colour = paint(ch, u, v);
                img.put_pixel(col * tile + dx, row * tile + dy, Rgb(colour));
            }
        }
    }
    img
}

fn paint(ch: u8, u: f32, v: f32) -> [u8; 3] {
    let disc = |r: f32| u * u + v * v <= r * r;
    let square = |r: f32| u.abs() <= r && v.abs() <= r;
    let diamond = |r: f32| u.abs() + v.abs() <= r;
    match ch {
        b'#' => WALL,
        b'G' => [0, 180, 90],
        b'S' => [220, 60, 60],
        b'P' if square(0.8) => [240, 220, 40],
        b'-' if v.abs() < 0.3 => [150, 40, 40],
        b'>' if diamond(0.7) => [150, 40, 40],
        b'B' if disc(0.6) => [170, 0, 0],
        b'H' if disc(0.7) => [220, 116, 182],
        b'C' if disc(0.5) => [230, 200, 0],
        b'X' if square(0.75) => [165, 117, 81],
        b'O' if diamond(0.75) => [90, 90, 200],
        b':' if diamond(0.75) && (u - v).abs() > 0.15 => [120, 120, 120],
        b'D' if disc(0.7) && v > -0.6 => [140, 90, 40],
        b'x' if (u - v).abs() < 0.2 || (u + v).abs() < 0.2 => [140, 90, 40],
        b'A' if disc(0.5) => [40, 92, 210],
        _ => FLOOR,
    }
}
