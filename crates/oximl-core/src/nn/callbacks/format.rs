//! Python's formatting of the values Keras writes: `str(float)` (CSVLogger) and `str.format` fields such as
//! `{epoch:02d}` or `{val_loss:.2f}` (ModelCheckpoint's filepath).

use crate::error::{Error, Result};

/// Python's `repr(float)`: the shortest digits that read back, positional for exponents in [-4, 16), else
/// `1e-05` style.
pub(crate) fn py_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{v:e}"); // shortest round-trip digits: "-1.2345e-5"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{v}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// A value for [`py_format`]: Keras' `epoch` is an int, logs are floats.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value {
    Int(i64),
    Float(f64),
}

/// `template.format(**values)` for fields `{name}` and `{name:spec}` with spec `[0][width][.precision][d|f|e|g]`,
/// and `{{`/`}}`; an unknown name is an error (Keras' KeyError).
pub(crate) fn py_format(template: &str, values: &[(&str, Value)]) -> Result<String> {
    let bad = |why: String| Error::invalid("filepath", format!("cannot format {template:?}: {why}"));
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let c = &rest[i..];
        if c.starts_with("{{") || c.starts_with("}}") {
            out.push_str(&c[..1]);
            rest = &c[2..];
            continue;
        }
        if c.starts_with('}') {
            return Err(bad("single '}'".into()));
        }
        let end = c.find('}').ok_or_else(|| bad("unclosed '{'".into()))?;
        let field = &c[1..end];
        let (name, spec) = field.split_once(':').unwrap_or((field, ""));
        let &(_, value) = values.iter().find(|(n, _)| *n == name).ok_or_else(|| bad(format!("no value {name:?}")))?;
        out.push_str(&format_spec(value, spec).ok_or_else(|| bad(format!("unsupported format {spec:?} for {name}")))?);
        rest = &c[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn format_spec(value: Value, spec: &str) -> Option<String> {
    let (zero, spec) = match spec.strip_prefix('0') {
        Some(s) => (true, s),
        None => (false, spec),
    };
    let ty = spec.chars().last().filter(|c| c.is_ascii_alphabetic());
    let spec = ty.map_or(spec, |_| &spec[..spec.len() - 1]);
    let (width, precision) = match spec.split_once('.') {
        Some((w, p)) => (w, Some(p.parse::<usize>().ok()?)),
        None => (spec, None),
    };
    let width: usize = if width.is_empty() { 0 } else { width.parse().ok()? };
    let body = match (ty, value) {
        (None, Value::Int(i)) if precision.is_none() => i.to_string(),
        (None, Value::Float(f)) if precision.is_none() => py_float(f),
        (Some('d'), Value::Int(i)) => i.to_string(),
        (Some('f') | None, v) => format!("{:.*}", precision.unwrap_or(6), as_f64(v)),
        (Some('e'), v) => {
            let s = format!("{:.*e}", precision.unwrap_or(6), as_f64(v));
            let (m, e) = s.split_once('e')?;
            let e: i32 = e.parse().ok()?;
            format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
        }
        _ => return None,
    };
    let pad = width.saturating_sub(body.chars().count());
    Some(match (zero, body.strip_prefix('-')) {
        (true, Some(digits)) => format!("-{}{digits}", "0".repeat(pad)),
        (true, None) => format!("{}{body}", "0".repeat(pad)),
        (false, _) => format!("{}{body}", " ".repeat(pad)),
    })
}

fn as_f64(v: Value) -> f64 {
    match v {
        Value::Int(i) => i as f64,
        Value::Float(f) => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        let cases =
            [(0.5, "0.5"), (1.0, "1.0"), (1e-5, "1e-05"), (1.5e16, "1.5e+16"), (0.0001, "0.0001"), (-2.0, "-2.0")];
        for (v, want) in cases {
            assert_eq!(py_float(v), want);
        }
    }

    #[test]
    fn fields_format_as_python_str_format() {
        let values = [("epoch", Value::Int(3)), ("val_loss", Value::Float(0.123456))];
        let got = py_format("m-{epoch:02d}-{val_loss:.2f}-{val_loss}-{{x}}.oximl", &values).unwrap();
        assert_eq!(got, "m-03-0.12-0.123456-{x}.oximl");
        assert_eq!(py_format("{val_loss:.3e}", &values).unwrap(), "1.235e-01");
        assert_eq!(py_format("{epoch:5}", &values).unwrap(), "    3");
        assert!(py_format("{loss}", &values).is_err());
        assert!(py_format("{epoch", &values).is_err());
        assert!(py_format("{val_loss:d}", &values).is_err());
    }
}
