//! Shards: a deterministic split of a sweep across machines. Shard `K/N` runs the units whose
//! index in the sweep is `K-1` modulo `N`; the shards' run folders are then merged.

use crate::error::UserError;
use std::str::FromStr;

/// Shard `index` of `count` (1-based: `1/3`, `2/3`, `3/3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    /// K, from 1 to `count`.
    pub index: usize,
    /// N, at least 1.
    pub count: usize,
}

impl Shard {
    /// Whether the unit at `unit_index` in the sweep belongs to this shard.
    pub fn contains(&self, unit_index: usize) -> bool {
        unit_index % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses `K/N` with 1 <= K <= N; the error is a [`UserError::Shard`] naming the argument.
impl FromStr for Shard {
    type Err = UserError;

    fn from_str(arg: &str) -> Result<Self, UserError> {
        let error = |message: &str| UserError::Shard {
            arg: arg.to_owned(),
            message: message.to_owned(),
        };
        let (k, n) = arg
            .split_once('/')
            .ok_or_else(|| error("expected K/N, e.g. 2/3"))?;
        let k: usize = k
            .trim()
            .parse()
            .map_err(|_| error("K in K/N must be a positive integer"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| error("N in K/N must be a positive integer"))?;
        if n == 0 {
            return Err(error("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(error(&format!("K must be between 1 and N = {n}")));
        }
        Ok(Shard { index: k, count: n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_shards() {
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
    }

    #[test]
    fn rejects_invalid_shards() {
        assert_eq!(
            "3/2".parse::<Shard>().unwrap_err().to_string(),
            "--shard 3/2: K must be between 1 and N = 2"
        );
        assert_eq!(
            "0/2".parse::<Shard>().unwrap_err().to_string(),
            "--shard 0/2: K must be between 1 and N = 2"
        );
        assert_eq!(
            "1/0".parse::<Shard>().unwrap_err().to_string(),
            "--shard 1/0: N must be at least 1"
        );
        assert_eq!(
            "2".parse::<Shard>().unwrap_err().to_string(),
            "--shard 2: expected K/N, e.g. 2/3"
        );
        assert!("a/3".parse::<Shard>().is_err());
        assert!("-1/3".parse::<Shard>().is_err());
    }

    #[test]
    fn shards_partition_the_sweep() {
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { index: k, count: 3 }).collect();
        for unit in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.contains(unit)).count(), 1);
        }
    }
}
