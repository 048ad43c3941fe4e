//! [`IdMap`]: external ids ↔ dense indices.

use crate::{Error, Result};
use std::collections::HashMap;

/// External ids ↔ dense indices `0..len`.
///
/// ```
/// use oximl_core::mf::Ratings;
/// let r = Ratings::from_triplets([("alice", "x", 4.0), ("bob", "x", 2.0)], Default::default()).unwrap();
/// assert_eq!(r.users().index("bob"), Some(1));
/// assert_eq!(r.users().id(0), Some("alice"));
/// assert_eq!(r.users().len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdMap {
    ids: Vec<String>,
    index: HashMap<String, u32>,
}

impl IdMap {
    /// A map from ids in index order; duplicates are refused.
    ///
    /// ```
    /// let m = oximl_core::mf::IdMap::from_ids(vec!["a".into(), "b".into()]).unwrap();
    /// assert_eq!(m.index("b"), Some(1));
    /// assert!(oximl_core::mf::IdMap::from_ids(vec!["a".into(), "a".into()]).is_err());
    /// ```
    pub fn from_ids(ids: Vec<String>) -> Result<IdMap> {
        if ids.len() > u32::MAX as usize {
            return Err(Error::invalid("ids", "more than 2^32 - 1 ids"));
        }
        let mut index = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if index.insert(id.clone(), i as u32).is_some() {
                return Err(Error::invalid("ids", format!("duplicate id `{id}`")));
            }
        }
        Ok(IdMap { ids, index })
    }

    /// Number of ids.
    ///
    /// ```
    /// assert_eq!(oximl_core::mf::IdMap::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no ids.
    ///
    /// ```
    /// assert!(oximl_core::mf::IdMap::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The index of `id`, if known.
    ///
    /// ```
    /// let m = oximl_core::mf::IdMap::from_ids(vec!["7".into()]).unwrap();
    /// assert_eq!(m.index("7"), Some(0));
    /// assert_eq!(m.index("8"), None);
    /// ```
    pub fn index(&self, id: &str) -> Option<usize> {
        self.index.get(id).map(|&i| i as usize)
    }

    /// The id at `index`, if in range.
    ///
    /// ```
    /// let m = oximl_core::mf::IdMap::from_ids(vec!["7".into()]).unwrap();
    /// assert_eq!(m.id(0), Some("7"));
    /// assert_eq!(m.id(1), None);
    /// ```
    pub fn id(&self, index: usize) -> Option<&str> {
        self.ids.get(index).map(String::as_str)
    }

    /// All ids in index order.
    ///
    /// ```
    /// let m = oximl_core::mf::IdMap::from_ids(vec!["a".into(), "b".into()]).unwrap();
    /// assert_eq!(m.ids(), ["a", "b"]);
    /// ```
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    pub(super) fn insert(&mut self, id: String) -> Result<u32> {
        if let Some(&i) = self.index.get(&id) {
            return Ok(i);
        }
        let i = u32::try_from(self.ids.len()).map_err(|_| Error::invalid("ids", "more than 2^32 - 1 ids"))?;
        self.index.insert(id.clone(), i);
        self.ids.push(id);
        Ok(i)
    }
}
