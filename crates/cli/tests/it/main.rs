//! The CLI's integration tests as one test binary, a module per file: the lab is linked once for
//! all of them instead of once per file, which was most of the test command's build time. (The
//! fuzz corpus replay stays a binary of its own: it compiles the fuzz targets' entry point in.)

mod common;

mod bad_inputs;
mod bargain;
mod cli;
mod hch;
mod induction;
mod learned;
mod play;
mod progress;
mod scaling;
