//! Campaign member data: free-form attributes, sorted by field for determinism.

use std::ops::{Deref, DerefMut};

use litemap::LiteMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Free-form per-member attributes (PixieBrix campaign `data`), sorted by field.
///
/// Stored as one sorted vector: every campaign member of a 20,000-person organization has
/// a map of one or two fields, where a `BTreeMap` node costs about 1 KB and this ~100 B.
/// Always written as a JSON object (the vector crate writes an empty map as `[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Data(LiteMap<String, serde_json::Value>);

impl Data {
    pub fn new() -> Self {
        Data::default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for Data {
    type Item = (String, serde_json::Value);
    type IntoIter = std::vec::IntoIter<(String, serde_json::Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_tuple_vec().into_iter()
    }
}

impl Deref for Data {
    type Target = LiteMap<String, serde_json::Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Data {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl FromIterator<(String, serde_json::Value)> for Data {
    fn from_iter<I: IntoIterator<Item = (String, serde_json::Value)>>(iter: I) -> Self {
        Data(iter.into_iter().collect())
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter())
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        LiteMap::deserialize(deserializer).map(Data)
    }
}

#[cfg(test)]
mod tests {
    use super::Data;
    use serde_json::json;

    #[test]
    fn always_a_json_object_in_field_order() {
        assert_eq!(serde_json::to_value(Data::new()).unwrap(), json!({}));
        let d: Data = [("b".to_string(), json!(2)), ("a".to_string(), json!(1))]
            .into_iter()
            .collect();
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"a":1,"b":2}"#);
        let back: Data = serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap();
        assert_eq!(back, d);
    }
}
