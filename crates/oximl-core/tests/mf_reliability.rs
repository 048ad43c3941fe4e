//! Recommenders under hostile input: sizes from arguments, tampered model files, quoted CSV, over-long lines and
//! cancellation (the recommender findings of issue 15).

use ndarray::Array2;
use oximl_core::io::{Loaded, TensorRef};
use oximl_core::mf::{
    Algorithm, Als, FunkSvd, ImplicitAls, MfModel, Ratings, RatingsCsvOptions,
    synthetic::{Synthetic, SyntheticImplicit},
};
use oximl_core::{Cancel, Error, Persist, Result};
use std::time::{Duration, Instant};

fn small() -> Ratings {
    Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0), ("b", "z", 2.0)], Default::default())
        .unwrap()
}

#[test]
fn sizes_from_arguments_are_errors_not_aborts() {
    let r = small();
    let funk = [
        FunkSvd { epochs: 10usize.pow(18), ..Default::default() },
        FunkSvd { factors: 10usize.pow(10), ..Default::default() },
        FunkSvd { factors: 1 << 62, ..Default::default() },
        FunkSvd { blocks: 1 << 40, ..Default::default() },
    ];
    for a in funk {
        assert!(matches!(a.fit(&r), Err(Error::InvalidArgument { .. })), "{a:?}");
    }
    let als =
        [Als { iterations: 10usize.pow(18), ..Default::default() }, Als { factors: 1 << 62, ..Default::default() }];
    for a in als {
        assert!(matches!(a.fit(&r), Err(Error::InvalidArgument { .. })), "{a:?}");
    }
    for a in [
        ImplicitAls { iterations: 10usize.pow(18), ..Default::default() },
        ImplicitAls { cg_steps: 10usize.pow(18), ..Default::default() },
        ImplicitAls { factors: 10usize.pow(10), ..Default::default() },
    ] {
        assert!(matches!(a.fit(&r), Err(Error::InvalidArgument { .. })), "{a:?}");
    }
    // The same through the JSON config that C and Python send.
    let a: Algorithm = serde_json::from_str(r#"{"algorithm": "als", "factors": 4611686018427387904}"#).unwrap();
    let Algorithm::Als(a) = a else { unreachable!() };
    assert!(a.fit(&r).is_err());
}

#[test]
fn csv_columns_at_the_end_of_usize_are_an_error() {
    let o = RatingsCsvOptions { columns: (usize::MAX, 1, 2, None), ..Default::default() };
    assert!(matches!(Ratings::parse_csv(&b"u,i,r\na,x,1\n"[..], &o), Err(Error::InvalidArgument { .. })));
    let o = RatingsCsvOptions { columns: (0, 1, 2, Some(usize::MAX)), ..Default::default() };
    assert_eq!(Ratings::parse_csv(&b"u,i,r\na,x,1\n"[..], &o).unwrap().len(), 1);
}

#[test]
fn r_write_csv_files_keep_quoted_commas_in_one_field() {
    // What R's write.csv(ratings) writes: quoted header and strings, a row-name column first.
    let text = "\"\",\"user\",\"title\",\"rating\"\n\"1\",\"1\",\"Heat, 1995\",4\n\"2\",\"2\",\"Heat, 1995\",5\n\
                \"3\",\"1\",\"Toy Story (1995)\",3\n";
    let o = RatingsCsvOptions { columns: (1, 2, 3, None), ..Default::default() };
    let r = Ratings::parse_csv(text.as_bytes(), &o).unwrap();
    assert_eq!(r.items().ids(), ["Heat, 1995", "Toy Story (1995)"]);
    assert_eq!(r.users().ids(), ["1", "2"]);
    assert_eq!(r.values(), [4.0, 5.0, 3.0]);
}

#[test]
fn an_endless_line_is_a_format_error() {
    let text = format!("u,i,r\na,x,1\n{}", "7".repeat(oximl_core::mf::ratings::MAX_LINE + 10));
    let e = Ratings::parse_csv(text.as_bytes(), &RatingsCsvOptions { skip_invalid: true, ..Default::default() });
    assert!(matches!(&e, Err(Error::Format(m)) if m.contains("line 3")), "{e:?}");
    let e = Ratings::parse_csv(text.as_bytes(), &oximl_core::mf::Preset::Movielens1m.options());
    assert!(matches!(&e, Err(Error::Format(_))), "{e:?}");
}

/// A trained model's file with its config edited and its factors replaced: what a corrupted or hostile file
/// holds, written through the real file format.
struct Tampered {
    config: serde_json::Value,
    user_factors: Array2<f32>,
    model: MfModel,
}

impl Persist for Tampered {
    const KIND: &'static str = "mf";

    fn with_tensors<R>(&self, f: impl FnOnce(&serde_json::Value, &[(&str, TensorRef<'_>)]) -> Result<R>) -> Result<R> {
        self.model.with_tensors(|_, tensors| {
            let mut tensors = tensors.to_vec();
            tensors[0] = ("user_factors", TensorRef::new(self.user_factors.view()));
            f(&self.config, &tensors)
        })
    }

    fn from_loaded(_: &Loaded) -> Result<Tampered> {
        Err(Error::Format("write-only".into()))
    }
}

fn tampered(edit: impl FnOnce(&mut serde_json::Value, &mut Array2<f32>)) -> Result<MfModel> {
    let model = Als { factors: 2, ..Default::default() }.fit(&small()).unwrap();
    let mut config = model.with_tensors(|c, _| Ok(c.clone())).unwrap();
    let mut user_factors = model.user_factor_matrix().to_owned();
    edit(&mut config, &mut user_factors);
    MfModel::from_bytes(&Tampered { config, user_factors, model }.to_bytes().unwrap())
}

#[test]
fn files_that_would_predict_inf_or_nan_are_refused() {
    assert!(tampered(|_, _| {}).is_ok());
    type Edit = fn(&mut serde_json::Value, &mut Array2<f32>);
    let cases: [(&str, Edit); 5] = [
        ("scale 1e39", |c, _| c["scale"] = serde_json::json!([1e39, 1e39])),
        ("scale reversed", |c, _| c["scale"] = serde_json::json!([5.0, 1.0])),
        ("mean 1e39", |c, _| c["mean"] = serde_json::json!(1e39)),
        ("NaN factor", |_, f| f[[0, 0]] = f32::NAN),
        ("huge factors", |_, f| f.fill(3e38)),
    ];
    for (what, edit) in cases {
        let e = tampered(edit);
        assert!(matches!(e, Err(Error::Format(_))), "{what}: {e:?}");
    }
}

/// Fits `fit` with so many epochs that it would run for hours, cancelling it after 100 ms from another thread.
fn cancelled_within_a_second(data: &Ratings, fit: impl FnOnce(&Ratings, &Cancel) -> Result<MfModel>) {
    let cancel = Cancel::new();
    let remote = cancel.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        remote.cancel();
        Instant::now()
    });
    let result = fit(data, &cancel);
    let stopped = Instant::now();
    let asked = stopper.join().unwrap();
    assert!(matches!(result, Err(Error::Cancelled(_))), "{:?}", result.map(|m| m.history().len()));
    assert!(stopped.duration_since(asked) < Duration::from_secs(1), "took {:?}", stopped.duration_since(asked));
}

#[test]
fn every_recommender_fit_stops_soon_after_cancel() {
    let many = oximl_core::mf::MAX_ITERATIONS;
    let data = Synthetic { users: 3000, items: 2000, ratings: 200_000, ..Default::default() }.generate().unwrap();
    let r = &data.ratings;
    cancelled_within_a_second(r, |r, c| {
        FunkSvd { factors: 64, epochs: many, ..Default::default() }.fit_cancellable(r, c)
    });
    cancelled_within_a_second(r, |r, c| {
        Als { factors: 64, iterations: many, ..Default::default() }.fit_cancellable(r, c)
    });
    let implicit =
        SyntheticImplicit { users: 3000, items: 2000, per_user: 60, ..Default::default() }.generate().unwrap();
    cancelled_within_a_second(&implicit, |r, c| {
        ImplicitAls { factors: 64, iterations: many, ..Default::default() }.fit_cancellable(r, c)
    });
}

#[test]
fn loading_ratings_stops_on_cancel() {
    let path = std::env::temp_dir().join(format!("oximl-mf-cancel-{}.csv", std::process::id()));
    std::fs::write(&path, "u,i,r\n".to_string() + &"a,x,1\n".repeat(200_000)).unwrap();
    let cancel = Cancel::new();
    cancel.cancel();
    let e = Ratings::read_csv_cancellable(&path, &Default::default(), &cancel);
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(e, Err(Error::Cancelled(_))));
}

#[test]
fn recommend_folded_refuses_overflowing_scores() {
    let m = Als { factors: 2, ..Default::default() }.fit(&small()).unwrap();
    let mut f = m.fold_in(&[("x", 5.0)]).unwrap();
    f.factors.fill(f32::MAX);
    f.bias = f32::MAX;
    assert!(matches!(m.recommend_folded(&f, 2, false), Err(Error::NonFinite(_))));
}
