//! Campaign member data: free-form attributes, sorted by field for determinism.

use std::ops::{Deref, DerefMut};

use litemap::LiteMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Free-form per-member attributes (PixieBrix campaign `data`), sorted by field.
///
/// Stored as one sorted vector: every campaign member of a 20,000-person organization has
/// a map of one or two fields, where a `BTreeMap` node costs about 1 KB and this ~100 B.
/// Always written as a JSON object (the vector crate writes an empty map as `[]`).
///
/// Empty, it is one null pointer: every member of every group and team carries a `Data`
/// and almost all are empty, so a million memberships save 16 MB on each side of the diff.
#[derive(Clone, Debug, Default)]
pub struct Data(Option<Box<Fields>>);

type Fields = LiteMap<String, serde_json::Value>;

/// What an empty `Data` derefs to.
static EMPTY: Fields = LiteMap::new();

impl Data {
    pub fn new() -> Self {
        Data::default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|f| f.is_empty())
    }

    fn from_fields(fields: Fields) -> Data {
        Data((!fields.is_empty()).then(|| Box::new(fields)))
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Data) -> bool {
        **self == **other
    }
}

impl Eq for Data {}

impl IntoIterator for Data {
    type Item = (String, serde_json::Value);
    type IntoIter = std::vec::IntoIter<(String, serde_json::Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0
            .map(|f| f.into_tuple_vec())
            .unwrap_or_default()
            .into_iter()
    }
}

impl Deref for Data {
    type Target = Fields;
    fn deref(&self) -> &Fields {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for Data {
    fn deref_mut(&mut self) -> &mut Fields {
        self.0.get_or_insert_with(Box::default)
    }
}

impl FromIterator<(String, serde_json::Value)> for Data {
    fn from_iter<I: IntoIterator<Item = (String, serde_json::Value)>>(iter: I) -> Self {
        Data::from_fields(iter.into_iter().collect())
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Fields::deserialize(deserializer).map(Data::from_fields)
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

    #[test]
    fn emptied_data_equals_new_data() {
        let mut d: Data = [("a".to_string(), json!(1))].into_iter().collect();
        d.clear();
        assert_eq!(d, Data::new());
        assert!(d.is_empty());
        assert_eq!(serde_json::to_string(&Data::new()).unwrap(), "{}");
    }
}
