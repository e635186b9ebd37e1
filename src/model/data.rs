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

    /// Gives back the room a map read or extended entry by entry keeps: its vector grows
    /// by doubling, so a campaign member's one or two fields held room for four, on both
    /// sides of the diff (a 20,000-person apply peaked 13 MiB higher for it).
    pub fn shrink_to_fit(&mut self) {
        if let Some(fields) = self.0.take() {
            *self = Data::from_fields(*fields);
        }
    }

    fn from_fields(fields: Fields) -> Data {
        if fields.is_empty() {
            return Data(None);
        }
        let mut entries = fields.into_tuple_vec();
        entries.shrink_to_fit();
        // Still in field order: the vector is the map's own store.
        Data(Some(Box::new(LiteMap::from_sorted_store_unchecked(
            entries,
        ))))
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
    fn read_and_extended_data_keep_no_spare_room() {
        let capacity = |d: Data| d.0.map_or(0, |f| f.into_tuple_vec().capacity());
        let read: Data = serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap();
        assert_eq!(capacity(read), 2);
        let mut extended: Data = [("a".to_string(), json!(1))].into_iter().collect();
        extended.extend([("c".to_string(), json!(3)), ("b".to_string(), json!(2))]);
        extended.shrink_to_fit();
        let fields: Vec<&str> = extended.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(fields, ["a", "b", "c"]);
        assert_eq!(capacity(extended), 3);
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
