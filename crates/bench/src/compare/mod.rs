//! `compare`: Simul, Prosody and ejabberd side by side on this machine, in
//! one run, each from a fresh start with the same users, contact lists
//! and settings, driven by the same XMPP scenarios; the figures and their
//! ratios go to a JSON file, a Markdown table and a plot.

// The scenarios and the report that use these land next (issue 18).
#![allow(dead_code)]

pub mod population;
pub mod running;
