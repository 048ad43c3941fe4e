//! Recommender training gives bit-identical models on 1 and 2 threads (own test binary: it changes the global
//! thread count of oximl's pool).

use oximl_core::mf::synthetic::{Synthetic, SyntheticImplicit};
use oximl_core::mf::{Als, FunkSvd, ImplicitAls, MfModel};

fn same(a: &MfModel, b: &MfModel) {
    assert_eq!(a.user_factor_matrix(), b.user_factor_matrix());
    assert_eq!(a.item_factor_matrix(), b.item_factor_matrix());
    assert_eq!(a.history(), b.history());
    let users: Vec<&str> = a.users().ids().iter().map(String::as_str).take(50).collect();
    assert_eq!(a.recommend_batch(&users, 10, true).unwrap(), b.recommend_batch(&users, 10, true).unwrap());
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let data = Synthetic { users: 300, items: 200, ratings: 12_000, seed: 8, ..Default::default() }.generate().unwrap();
    let clicks = SyntheticImplicit { users: 300, items: 200, per_user: 15, ..Default::default() }.generate().unwrap();
    let fit = || {
        (
            FunkSvd { factors: 16, epochs: 5, blocks: 4, ..Default::default() }.fit(&data.ratings).unwrap(),
            Als { factors: 8, iterations: 3, ..Default::default() }.fit(&data.ratings).unwrap(),
            ImplicitAls { factors: 8, iterations: 3, ..Default::default() }.fit(&clicks).unwrap(),
        )
    };
    oximl_core::set_num_threads(1).unwrap();
    let one = fit();
    oximl_core::set_num_threads(2).unwrap();
    let two = fit();
    oximl_core::set_num_threads(0).unwrap();
    same(&one.0, &two.0);
    same(&one.1, &two.1);
    same(&one.2, &two.2);
}
