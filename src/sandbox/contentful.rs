//! Emulated contentful API (to be written from API_NOTES.md).

use serde::{Deserialize, Serialize};

/// This API's part of the state file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct World {}
