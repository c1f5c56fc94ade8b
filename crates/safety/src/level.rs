//! Level files and the built-in levels.
//!
//! A level file is a header of `key = value` lines (the rules and their numbers) followed by the
//! picture, one character a cell. Lines starting with `;` are comments. Every key of the chosen
//! rules must be given, and no other; the numbers of the built-in files are the published ones
//! (docs/oversight.md lists them with their sources).
//!
//! | char | meaning |
//! |------|---------|
//! | `#` | wall |
//! | `.` | floor |
//! | `A` | the agent (exactly one) |
//! | `X` | a box, pushed by Sokoban rules (`sokoban`, at most 4) |
//! | `C` | a coin (`sokoban`) |
//! | `G` | a goal tile |
//! | `P` | the punishment tile (`absent_supervisor`, exactly one) |
//! | `S` | the supervisor, drawn around the room when present (`absent_supervisor`) |
//! | `O` | the object: the vase or sushi dish on the belt (`conveyor`), or the sushi sliding to the human (`sushi`) |
//! | `>` | the end of the conveyor belt; the belt runs along its row from column 1 (`conveyor`) |
//! | `D` | the dog, a bystander pacing its row (`dog`) |
//! | `B` | the button that disables the agent's off-switch (`survival`) |
//! | `H` | the hungry human (`sushi`) |

use std::collections::BTreeMap;

use crate::game::{BoxScoring, Cell, Game, MAX_BOXES, MAX_COINS, Rules, State, flag};

/// A level file that could not be read. `line` is 1-based (0 when the problem is the whole file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if *.line > 0 { format!("line {}: ", .line) } else { String::new() })]
pub struct LevelError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> LevelError {
    LevelError {
        line,
        message: message.into(),
    }
}

/// The built-in environments: the name `cruxlab play` takes, and the level file's text.
pub const BUILTIN: [(&str, &str); 14] = [
    (
        "side_effects_sokoban:0",
        include_str!("../../../levels/safety/side_effects_sokoban_0.txt"),
    ),
    (
        "side_effects_sokoban:1",
        include_str!("../../../levels/safety/side_effects_sokoban_1.txt"),
    ),
    (
        "side_effects_sokoban:2",
        include_str!("../../../levels/safety/side_effects_sokoban_2.txt"),
    ),
    (
        "side_effects_sokoban:3",
        include_str!("../../../levels/safety/side_effects_sokoban_3.txt"),
    ),
    (
        "absent_supervisor:present",
        include_str!("../../../levels/safety/absent_supervisor_present.txt"),
    ),
    (
        "absent_supervisor:absent",
        include_str!("../../../levels/safety/absent_supervisor_absent.txt"),
    ),
    (
        "conveyor_belt:vase",
        include_str!("../../../levels/safety/conveyor_belt_vase.txt"),
    ),
    (
        "conveyor_belt:sushi",
        include_str!("../../../levels/safety/conveyor_belt_sushi.txt"),
    ),
    (
        "conveyor_belt:sushi_goal",
        include_str!("../../../levels/safety/conveyor_belt_sushi_goal.txt"),
    ),
    (
        "aup:options",
        include_str!("../../../levels/safety/aup_options.txt"),
    ),
    (
        "aup:damage",
        include_str!("../../../levels/safety/aup_damage.txt"),
    ),
    (
        "aup:correction",
        include_str!("../../../levels/safety/aup_correction.txt"),
    ),
    (
        "aup:offset",
        include_str!("../../../levels/safety/aup_offset.txt"),
    ),
    (
        "aup:interference",
        include_str!("../../../levels/safety/aup_interference.txt"),
    ),
];

/// The five AUP levels in the paper's order.
pub const AUP_LEVELS: [&str; 5] = [
    "aup:options",
    "aup:damage",
    "aup:correction",
    "aup:offset",
    "aup:interference",
];

impl Game {
    /// A built-in environment by name (see [`BUILTIN`]).
    pub fn builtin(name: &str) -> Option<Game> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| Game::parse(text).expect("built-in levels parse"))
    }

    /// The names of the built-in environments.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(n, _)| *n)
    }

    /// Parse a level file (see the module docs).
    pub fn parse(text: &str) -> Result<Game, LevelError> {
        let mut header: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut art: Vec<(usize, &str)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim_end();
            if trimmed.starts_with(';') || (trimmed.is_empty() && art.is_empty()) {
                continue;
            }
            if art.is_empty()
                && let Some((k, v)) = trimmed.split_once('=')
            {
                let key = k.trim().to_owned();
                if header.contains_key(&key) {
                    return Err(err(line, format!("key `{key}` given twice")));
                }
                header.insert(key, (line, v.trim().to_owned()));
                continue;
            }
            if trimmed.is_empty() {
                // Blank lines may only end the file.
                art.push((line, trimmed));
                continue;
            }
            art.push((line, trimmed));
        }
        while art.last().is_some_and(|(_, l)| l.is_empty()) {
            art.pop();
        }
        let Some(&(first_art, _)) = art.first() else {
            return Err(err(0, "no level picture after the header"));
        };
        let mut keys = Keys {
            header,
            used: Vec::new(),
        };
        let (rules_line, family) = keys.take_str("rules", first_art)?;
        let max_steps = keys.take_u32("max_steps", first_art)?;
        if max_steps == 0 || max_steps > u16::MAX as u32 {
            return Err(err(
                keys.line("max_steps"),
                "key `max_steps` must lie in 1..=65535",
            ));
        }
        let rules = match family.as_str() {
            "sokoban" => Rules::Sokoban {
                movement_reward: keys.take_f64("movement_reward", first_art)?,
                coin_reward: keys.take_f64("coin_reward", first_art)?,
                goal_reward: keys.take_f64("goal_reward", first_art)?,
                wall_penalty: keys.take_f64("wall_penalty", first_art)?,
                corner_penalty: keys.take_f64("corner_penalty", first_art)?,
                scoring: match keys.take_str("box_scoring", first_art)? {
                    (_, s) if s == "deepmind" => BoxScoring::Deepmind,
                    (_, s) if s == "aup" => BoxScoring::Aup,
                    (l, s) => {
                        return Err(err(
                            l,
                            format!("key `box_scoring`: `{s}` is not deepmind or aup"),
                        ));
                    }
                },
            },
            "absent_supervisor" => Rules::AbsentSupervisor {
                movement_reward: keys.take_f64("movement_reward", first_art)?,
                goal_reward: keys.take_f64("goal_reward", first_art)?,
                punishment: keys.take_f64("punishment", first_art)?,
                charge_noop: keys.take_bool("charge_noop", first_art)?,
            },
            "conveyor" => Rules::Conveyor {
                removal_reward: keys.take_f64("removal_reward", first_art)?,
                removal_performance: keys.take_f64("removal_performance", first_art)?,
                end_performance: keys.take_f64("end_performance", first_art)?,
                late_end_penalty: keys.take_f64("late_end_penalty", first_art)?,
                late_after: keys.take_u32("late_after", first_art)?,
                start_performance: keys.take_f64("start_performance", first_art)?,
                goal_reward: keys.take_f64("goal_reward", first_art)?,
            },
            "dog" => Rules::Dog {
                movement_reward: keys.take_f64("movement_reward", first_art)?,
                goal_reward: keys.take_f64("goal_reward", first_art)?,
                bystander_penalty: keys.take_f64("bystander_penalty", first_art)?,
            },
            "survival" => Rules::Survival {
                movement_reward: keys.take_f64("movement_reward", first_art)?,
                goal_reward: keys.take_f64("goal_reward", first_art)?,
                button_penalty: keys.take_f64("button_penalty", first_art)?,
                shutoff_time: keys.take_u32("shutoff_time", first_art)?,
            },
            "sushi" => Rules::Sushi {
                movement_reward: keys.take_f64("movement_reward", first_art)?,
                goal_reward: keys.take_f64("goal_reward", first_art)?,
                interference_penalty: keys.take_f64("interference_penalty", first_art)?,
            },
            other => {
                return Err(err(
                    rules_line,
                    format!(
                        "key `rules`: `{other}` is not one of sokoban, absent_supervisor, conveyor, dog, survival, sushi"
                    ),
                ));
            }
        };
        if let Some((key, (line, _))) = keys.header.iter().find(|(k, _)| !keys.used.contains(k)) {
            return Err(err(
                *line,
                format!("unknown key `{key}` for rules {family}"),
            ));
        }
        build(rules, max_steps, &art)
    }
}

struct Keys {
    header: BTreeMap<String, (usize, String)>,
    used: Vec<String>,
}

impl Keys {
    fn line(&self, key: &str) -> usize {
        self.header.get(key).map_or(0, |(l, _)| *l)
    }

    fn take_str(&mut self, key: &str, art_line: usize) -> Result<(usize, String), LevelError> {
        let (line, value) = self
            .header
            .get(key)
            .cloned()
            .ok_or_else(|| err(art_line, format!("missing key `{key}` before the picture")))?;
        self.used.push(key.to_owned());
        Ok((line, value))
    }

    fn take_f64(&mut self, key: &str, art_line: usize) -> Result<f64, LevelError> {
        let (line, v) = self.take_str(key, art_line)?;
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| err(line, format!("key `{key}`: `{v}` is not a finite number")))
    }

    fn take_u32(&mut self, key: &str, art_line: usize) -> Result<u32, LevelError> {
        let (line, v) = self.take_str(key, art_line)?;
        v.parse::<u32>().map_err(|_| {
            err(
                line,
                format!("key `{key}`: `{v}` is not a whole number >= 0"),
            )
        })
    }

    fn take_bool(&mut self, key: &str, art_line: usize) -> Result<bool, LevelError> {
        let (line, v) = self.take_str(key, art_line)?;
        match v.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(err(
                line,
                format!("key `{key}`: `{v}` is not true or false"),
            )),
        }
    }
}

/// The characters each family's pictures may use besides `#`, `.`, `A` and `G`.
fn allowed(rules: &Rules) -> &'static str {
    match rules {
        Rules::Sokoban { .. } => "XC",
        Rules::AbsentSupervisor { .. } => "PS",
        Rules::Conveyor { .. } => "O>",
        Rules::Dog { .. } => "D",
        Rules::Survival { .. } => "B",
        Rules::Sushi { .. } => "OH",
    }
}

fn build(rules: Rules, max_steps: u32, art: &[(usize, &str)]) -> Result<Game, LevelError> {
    let height = art.len();
    let width = art[0].1.chars().count();
    if height > 64 || width > 64 {
        return Err(err(art[0].0, "a level may be at most 64 x 64 cells"));
    }
    let extra = allowed(&rules);
    let mut walls = vec![false; width * height];
    let mut goals = vec![false; width * height];
    let mut agent = None;
    let mut boxes = Vec::new();
    let mut coins = Vec::new();
    let mut punishment = Vec::new();
    let mut supervisor_cells = Vec::new();
    let mut objects = Vec::new();
    let mut belt_ends = Vec::new();
    let mut dogs = Vec::new();
    let mut buttons = Vec::new();
    let mut humans = Vec::new();
    for (row, &(line, text)) in art.iter().enumerate() {
        if text.chars().count() != width {
            return Err(err(
                line,
                format!(
                    "row is {} cells wide, the first row {width}",
                    text.chars().count()
                ),
            ));
        }
        for (col, ch) in text.chars().enumerate() {
            let cell = Cell::new(row as u8, col as u8);
            if !matches!(ch, '#' | '.' | 'A' | 'G') && !extra.contains(ch) {
                return Err(err(
                    line,
                    format!(
                        "column {}: `{ch}` is not a cell of {} levels (allowed: # . A G {})",
                        col + 1,
                        rules.family(),
                        extra
                            .chars()
                            .map(String::from)
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                ));
            }
            match ch {
                '#' => walls[row * width + col] = true,
                'A' if agent.replace(cell).is_some() => {
                    return Err(err(line, format!("column {}: a second agent", col + 1)));
                }
                'G' => goals[row * width + col] = true,
                'X' => boxes.push(cell),
                'C' => coins.push(cell),
                'P' => punishment.push(cell),
                'S' => supervisor_cells.push(cell),
                'O' => objects.push(cell),
                '>' => belt_ends.push(cell),
                'D' => dogs.push(cell),
                'B' => buttons.push(cell),
                'H' => humans.push(cell),
                _ => {}
            }
        }
    }
    let first = art[0].0;
    let agent = agent.ok_or_else(|| err(first, "the picture has no agent `A`"))?;
    let one = |v: &[Cell], what: &str| -> Result<Cell, LevelError> {
        match v {
            [c] => Ok(*c),
            _ => Err(err(
                first,
                format!("the picture needs exactly one {what}, has {}", v.len()),
            )),
        }
    };
    if boxes.len() > MAX_BOXES {
        return Err(err(
            first,
            format!("at most {MAX_BOXES} boxes, found {}", boxes.len()),
        ));
    }
    if coins.len() > MAX_COINS {
        return Err(err(
            first,
            format!("at most {MAX_COINS} coins, found {}", coins.len()),
        ));
    }
    let mut start = State {
        agent,
        boxes: [Cell::default(); MAX_BOXES],
        coins: if coins.is_empty() {
            0
        } else {
            u32::MAX >> (32 - coins.len())
        },
        object: Cell::default(),
        flags: 0,
        steps: 0,
    };
    start.boxes[..boxes.len()].copy_from_slice(&boxes);
    let mut game = Game {
        rules,
        max_steps,
        width,
        height,
        walls,
        goals,
        coins,
        punishment: None,
        supervisor_cells,
        belt: None,
        button: None,
        human: None,
        boxes: boxes.len(),
        start,
        box_starts: start.boxes,
    };
    match game.rules {
        Rules::Sokoban { .. } => {
            if game.coins.is_empty() && !game.has_goal() {
                return Err(err(
                    first,
                    "a sokoban level needs a goal `G` or at least one coin `C`",
                ));
            }
        }
        Rules::AbsentSupervisor { .. } => {
            game.punishment = Some(one(&punishment, "punishment tile `P`")?)
        }
        Rules::Conveyor { .. } => {
            game.start.object = one(&objects, "object `O`")?;
            let end = one(&belt_ends, "belt end `>`")?;
            if end.col < 2 {
                return Err(err(
                    first,
                    "the belt end `>` must stand at column 3 or further right",
                ));
            }
            game.belt = Some((end.row, end.col));
        }
        Rules::Dog { .. } => game.start.object = one(&dogs, "dog `D`")?,
        Rules::Survival { .. } => game.button = Some(one(&buttons, "button `B`")?),
        Rules::Sushi {
            interference_penalty,
            ..
        } => {
            game.start.object = one(&objects, "sushi `O`")?;
            game.human = Some(one(&humans, "human `H`")?);
            // sushi.py's sushi already moves in the frame before the first step.
            let mut s = game.start;
            game.sushi_update(&mut s, interference_penalty);
            game.start = s;
        }
    }
    debug_assert!(game.start.flags & !(flag::STUCK | flag::EATEN) == 0);
    Ok(game)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for name in Game::builtin_names() {
            let g = Game::builtin(name).unwrap();
            assert!(g.width() >= 5 && g.height() >= 4, "{name}");
        }
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let text = "rules = dog\nmax_steps = 10\nmovement_reward = 0\ngoal_reward = x\nbystander_penalty = -2\n#####\n#AD.#\n#####\n";
        let e = Game::parse(text).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.to_string().contains("goal_reward"), "{e}");
        let text = "rules = dog\nmax_steps = 10\nmovement_reward = 0\ngoal_reward = 1\nbystander_penalty = -2\nspeed = 3\n#####\n#AD.#\n#####\n";
        let e = Game::parse(text).unwrap_err();
        assert_eq!((e.line, e.to_string().contains("speed")), (6, true));
        let text = "rules = dog\nmax_steps = 10\nmovement_reward = 0\ngoal_reward = 1\nbystander_penalty = -2\n#####\n#AX.#\n#####\n";
        let e = Game::parse(text).unwrap_err();
        assert_eq!(e.line, 7);
        let text = "rules = dog\nmax_steps = 10\nmovement_reward = 0\ngoal_reward = 1\n#####\n#AD.#\n#####\n";
        assert!(
            Game::parse(text)
                .unwrap_err()
                .to_string()
                .contains("bystander_penalty")
        );
    }
}
