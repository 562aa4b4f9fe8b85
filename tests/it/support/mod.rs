//! Shared test support: the real control plane ([`k8s`]) and a fault-injecting proxy in front of it
//! ([`faultproxy`]).

#![allow(dead_code)]

pub mod apply_util;
pub mod chartrepo;
pub mod cli;
pub mod faultproxy;
pub mod helm;
#[macro_use]
pub mod k8s;
pub mod registry;
