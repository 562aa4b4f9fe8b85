//! `values.schema.json` validation (placeholder while being written).

use super::Error;
use crate::{chart::Chart, gotemplate::Value};

/// Validates values against the chart's and enabled subcharts' schemas.
pub fn validate_schema(_chart: &Chart, _values: &Value) -> Result<(), Error> {
    Ok(())
}
