//! The TensorFlow Serving REST API: `GET /v1/models/NAME[/versions/V][/metadata]` and
//! `POST /v1/models/NAME[/versions/V]:VERB` (`predict`; `recommend`, `similar`, `embed` for the other kinds).
//!
//! axum cannot match a `:predict` suffix after a path parameter, so one wildcard route takes the rest of the path
//! and [`Target::parse`] reads it.

use crate::server::{AppState, Served};
use crate::{ApiError, Model};
use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::BytesRejection;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a `/v1/models/...` path names.
#[derive(Debug, PartialEq)]
struct Target<'a> {
    name: &'a str,
    version: Option<&'a str>,
    /// `metadata` (GET), a verb such as `predict` (POST), or nothing (GET: version status).
    action: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// Reads `NAME[/versions/V][/metadata]` (GET) or `NAME[/versions/V]:VERB` (POST).
    fn parse(rest: &'a str, method: &Method) -> Option<Target<'a>> {
        let (path, verb) = match rest.rsplit_once(':') {
            Some((path, verb)) if method == Method::POST => (path, Some(verb)),
            _ if method == Method::POST => return None,
            _ => (rest, None),
        };
        let parts: Vec<&str> = path.split('/').collect();
        let (name, version, action) = match parts.as_slice() {
            [name] => (*name, None, verb),
            [name, "metadata"] if verb.is_none() => (*name, None, Some("metadata")),
            [name, "versions", v] => (*name, Some(*v), verb),
            [name, "versions", v, "metadata"] if verb.is_none() => (*name, Some(*v), Some("metadata")),
            _ => return None,
        };
        (!name.is_empty()).then_some(Target { name, version, action })
    }
}

/// The body of `:predict`: `instances` (a list of rows) or `inputs` (columnar: the rows, or `{"input": rows}`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PredictRequest {
    signature_name: Option<String>,
    instances: Option<Vec<Vec<f32>>>,
    inputs: Option<Value>,
}

#[derive(Serialize)]
struct Predictions {
    predictions: Vec<Vec<f32>>,
}

#[derive(Serialize)]
struct Outputs {
    outputs: Vec<Vec<f32>>,
}

fn unknown_path(rest: &str) -> Response {
    ApiError::not_found(format!("no such endpoint: /v1/models/{rest}")).into_response()
}

/// `GET /v1/models/...`: version status or metadata.
pub(crate) async fn get(state: AppState, Path(rest): Path<String>) -> Response {
    let Some(target) = Target::parse(&rest, &Method::GET) else { return unknown_path(&rest) };
    let app = &state.0;
    let servable = match app.servable(target.name, target.version) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let version = servable.version.to_string();
    let endpoint = if target.action.is_some() { "metadata" } else { "status" };
    let served = Served { model: servable.name.clone(), version: version.clone(), endpoint };
    let body = match target.action {
        None => json!({ "model_version_status": [{
            "version": version, "state": "AVAILABLE", "status": { "error_code": "OK", "error_message": "" },
        }]}),
        Some(_) => json!({
            "model_spec": { "name": servable.name, "signature_name": "", "version": version },
            "metadata": { "signature_def": { "signature_def": signatures(&servable.model) } },
            "oximl": servable.model.describe(),
        }),
    };
    served.label(Json(body))
}

/// The `serving_default` signature of a network (input `input`, output `output`, float rows of any count).
fn signatures(model: &Model) -> Value {
    let Model::Network(net) = model else { return json!({}) };
    let tensor = |name: &str, width: usize| {
        json!({ name: { "dtype": "DT_FLOAT", "name": name,
            "tensor_shape": { "dim": [{ "size": "-1", "name": "" }, { "size": width.to_string(), "name": "" }],
            "unknown_rank": false } } })
    };
    json!({ "serving_default": {
        "inputs": tensor("input", net.input_dim()),
        "outputs": tensor("output", net.output_dim()),
        "method_name": "tensorflow/serving/predict",
    }})
}

/// `POST /v1/models/...:VERB`.
pub(crate) async fn post(
    state: AppState,
    Path(rest): Path<String>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let Some(Target { name, version, action: Some(verb) }) = Target::parse(&rest, &Method::POST) else {
        return unknown_path(&rest);
    };
    let servable = match state.0.servable(name, version) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let served = Served {
        model: servable.name.clone(),
        version: servable.version.to_string(),
        endpoint: match verb {
            "predict" => "predict",
            "recommend" => "recommend",
            "similar" => "similar",
            "embed" => "embed",
            _ => "other",
        },
    };
    let answer = async {
        let body = body?;
        if verb == "predict" {
            return predict(&servable, &body).await;
        }
        let model = std::sync::Arc::clone(&servable.model);
        let (name, verb) = (name.to_string(), verb.to_string());
        let call = tokio::task::spawn_blocking(move || model.call(&name, &verb, &body));
        Ok(Json(call.await.map_err(|_| ApiError::internal("the call failed"))??).into_response())
    };
    served.label(answer.await.unwrap_or_else(IntoResponse::into_response))
}

async fn predict(servable: &crate::Servable, body: &[u8]) -> Result<Response, ApiError> {
    let request: PredictRequest = serde_json::from_slice(body)?;
    if let Some(s) = request.signature_name.as_deref().filter(|s| !s.is_empty() && *s != "serving_default") {
        return Err(ApiError::bad_request(format!("signature `{s}` not found: the only one is `serving_default`")));
    }
    match (request.instances, request.inputs) {
        (Some(rows), None) => {
            let out = servable.predict(matrix(rows, "instances")?).await?;
            Ok(Json(Predictions { predictions: rows_of(out) }).into_response())
        }
        (None, Some(inputs)) => {
            let rows = match inputs {
                Value::Object(mut named) if named.len() == 1 && named.contains_key("input") => {
                    named.remove("input").unwrap_or_default()
                }
                Value::Object(_) => return Err(ApiError::bad_request("`inputs` names one tensor, `input`")),
                rows => rows,
            };
            let rows: Vec<Vec<f32>> =
                serde_json::from_value(rows).map_err(|e| ApiError::bad_request(format!("`inputs`: {e}")))?;
            let out = servable.predict(matrix(rows, "inputs")?).await?;
            Ok(Json(Outputs { outputs: rows_of(out) }).into_response())
        }
        _ => Err(ApiError::bad_request("give exactly one of `instances` (rows) and `inputs` (columnar)")),
    }
}

/// Rows of equal length as a matrix.
pub(crate) fn matrix(rows: Vec<Vec<f32>>, what: &str) -> Result<Array2<f32>, ApiError> {
    let width = rows.first().map_or(0, Vec::len);
    if rows.is_empty() || width == 0 {
        return Err(ApiError::bad_request(format!("`{what}` holds no values")));
    }
    let mut flat = Vec::with_capacity(rows.len() * width);
    for (i, row) in rows.iter().enumerate() {
        if row.len() != width {
            return Err(ApiError::bad_request(format!(
                "`{what}`: row {i} has {} values, row 0 has {width}",
                row.len()
            )));
        }
        flat.extend_from_slice(row);
    }
    Array2::from_shape_vec((rows.len(), width), flat).map_err(|e| ApiError::bad_request(e.to_string()))
}

fn rows_of(out: Array2<f32>) -> Vec<Vec<f32>> {
    out.outer_iter().map(|r| r.to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_as_tensorflow_serving_names_them() {
        let t = |rest, m| Target::parse(rest, &m);
        assert_eq!(t("d", Method::GET), Some(Target { name: "d", version: None, action: None }));
        assert_eq!(t("d/metadata", Method::GET), Some(Target { name: "d", version: None, action: Some("metadata") }));
        assert_eq!(t("d/versions/3", Method::GET), Some(Target { name: "d", version: Some("3"), action: None }));
        assert_eq!(
            t("d/versions/3:predict", Method::POST),
            Some(Target { name: "d", version: Some("3"), action: Some("predict") })
        );
        assert_eq!(t("d:predict", Method::POST), Some(Target { name: "d", version: None, action: Some("predict") }));
        assert_eq!(t("d", Method::POST), None);
        assert_eq!(t("d/x/y", Method::GET), None);
        assert_eq!(t(":predict", Method::POST), None);
    }

    #[test]
    fn ragged_rows_are_refused_naming_the_row() {
        let e = matrix(vec![vec![1.0, 2.0], vec![3.0]], "instances").unwrap_err();
        assert!(e.message.contains("row 1 has 1 values"), "{}", e.message);
        assert_eq!(matrix(vec![vec![1.0, 2.0], vec![3.0, 4.0]], "instances").unwrap().dim(), (2, 2));
    }
}
