//! Flag groups shared by several commands, flattened into each (as kapp's `*_flags.go`).

use clap::{ArgAction, Args};

use crate::values::ValuesOptions;

/// kubectl's global flags; parsed on every command even where not used yet, so that
/// `kubectl chart --context x template ...` never fails on an unknown flag.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use for CLI requests.
    #[arg(long, global = true, env = "KUBECONFIG", value_name = "PATH")]
    pub kubeconfig: Option<String>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// If present, the namespace scope for this CLI request.
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Log verbosity on stderr (0 quiet .. 9 trace), like kubectl's -v.
    #[arg(
        short = 'v',
        long = "verbosity",
        global = true,
        default_value_t = 0,
        value_name = "LEVEL"
    )]
    pub verbosity: u8,
}

/// Values flags, as Helm's (`-f`, `--set`, `--set-string`, `--set-file`, `--set-json`, `--set-literal`).
#[derive(Debug, Clone, Default, Args)]
pub struct ValuesArgs {
    /// Specify values in a YAML file (can specify multiple; '-' reads standard input).
    #[arg(short = 'f', long = "values", value_name = "FILE", action = ArgAction::Append)]
    pub values: Vec<String>,
    /// Set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2).
    #[arg(long, value_name = "KEY=VALUE", action = ArgAction::Append)]
    pub set: Vec<String>,
    /// Set STRING values on the command line (can specify multiple or separate values with commas).
    #[arg(long = "set-string", value_name = "KEY=VALUE", action = ArgAction::Append)]
    pub set_string: Vec<String>,
    /// Set values from respective files (can specify multiple or separate values with commas: key1=path1).
    #[arg(long = "set-file", value_name = "KEY=PATH", action = ArgAction::Append)]
    pub set_file: Vec<String>,
    /// Set JSON values on the command line (can specify multiple or separate values with commas).
    #[arg(long = "set-json", value_name = "KEY=JSON", action = ArgAction::Append)]
    pub set_json: Vec<String>,
    /// Set a literal STRING value on the command line.
    #[arg(long = "set-literal", value_name = "KEY=VALUE", action = ArgAction::Append)]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// The values options the pipeline takes.
    pub fn to_options(&self) -> ValuesOptions {
        ValuesOptions {
            value_files: self.values.clone(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
        }
    }
}
