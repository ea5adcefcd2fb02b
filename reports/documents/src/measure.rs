//! A measured number and the limit that judged it, as cases record them, the journal keeps
//! them and the report shows them.

use serde::{Deserialize, Deserializer, Serialize};

/// One measured number. A value that is not a finite number is written as `null` (JSON has
/// no NaN) and read back as NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub name: String,
    #[serde(deserialize_with = "number_or_null")]
    pub value: f64,
    #[serde(default)]
    pub unit: String,
    /// The limit that decided pass or fail, where one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
}

/// A pass/fail limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// `>=`, `<=`, `==`, `>`, `<`.
    pub op: String,
    #[serde(deserialize_with = "number_or_null")]
    pub value: f64,
}

fn number_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Measurement {
    /// A measurement without a threshold.
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Self {
        Measurement {
            name: name.into(),
            value,
            unit: unit.into(),
            threshold: None,
        }
    }

    /// The value, when it is a finite number.
    pub fn finite(&self) -> Option<f64> {
        self.value.is_finite().then_some(self.value)
    }

    /// Whether the value holds against its threshold: `None` without one, without finite
    /// numbers, or with an operator it does not know.
    pub fn holds(&self) -> Option<bool> {
        let t = self.threshold.as_ref()?;
        t.holds(self.finite()?)
    }
}

impl Threshold {
    /// Whether `v` holds against this limit (`None` for an unknown operator or a limit that
    /// is not a finite number).
    pub fn holds(&self, v: f64) -> Option<bool> {
        let l = self.value;
        if !l.is_finite() {
            return None;
        }
        Some(match self.op.as_str() {
            ">=" => v >= l,
            "<=" => v <= l,
            "==" => v == l,
            ">" => v > l,
            "<" => v < l,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: f64, op: &str, l: f64) -> Measurement {
        Measurement {
            threshold: Some(Threshold {
                op: op.into(),
                value: l,
            }),
            ..Measurement::new("x", v, "u")
        }
    }

    #[test]
    fn measurements_hold() {
        assert_eq!(m(2.0, ">=", 1.0).holds(), Some(true));
        assert_eq!(m(0.5, ">=", 1.0).holds(), Some(false));
        assert_eq!(m(1.0, "==", 1.0).holds(), Some(true));
        assert_eq!(m(1.0, "<", 1.0).holds(), Some(false));
        assert_eq!(m(1.0, "~", 1.0).holds(), None);
        assert_eq!(m(f64::NAN, ">=", 1.0).holds(), None);
        assert_eq!(Measurement::new("x", 1.0, "").holds(), None);
    }

    #[test]
    fn null_is_nan_and_back() {
        let x: Measurement = serde_json::from_str(
            r#"{"name":"a","value":null,"threshold":{"op":">=","value":null}}"#,
        )
        .expect("test");
        assert!(x.value.is_nan() && x.finite().is_none() && x.unit.is_empty());
        let j = serde_json::to_string(&x).expect("test");
        assert_eq!(
            j,
            r#"{"name":"a","value":null,"unit":"","threshold":{"op":">=","value":null}}"#
        );
        assert!(serde_json::from_str::<Measurement>(r#"{"name":"a","value":"1"}"#).is_err());
        assert!(serde_json::from_str::<Measurement>(r#"{"name":"a"}"#).is_err());
    }
}
