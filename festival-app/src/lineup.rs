//! What is on where: the stages and acts (shared with the JSON API), and the food tents.

use crate::templates::{ActView, StageView, TentView};

/// Every stage with its acts, in line-up order.
pub fn stages() -> Vec<StageView> {
    // PLACEHOLDER until wristband_api::lineup lands.
    vec![
        StageView {
            slug: "main".to_owned(),
            name: "Main Stage".to_owned(),
            acts: vec![ActView {
                time: "Sat 21:00".to_owned(),
                name: "The Headliners".to_owned(),
            }],
        },
        StageView {
            slug: "forest".to_owned(),
            name: "Forest Stage".to_owned(),
            acts: vec![],
        },
        StageView {
            slug: "harbour".to_owned(),
            name: "Harbour Stage".to_owned(),
            acts: vec![],
        },
    ]
}

/// The stage at `slug`, if there is one.
pub fn stage(slug: &str) -> Option<StageView> {
    stages().into_iter().find(|stage| stage.slug == slug)
}

/// The food tents: open to any wristband.
pub fn food_tents() -> Vec<TentView> {
    vec![
        TentView {
            name: "The Tin Kettle",
            serves: "Tea, coffee and slabs of lemon cake, from sunrise for the early campers.",
        },
        TentView {
            name: "Noodle Harbour",
            serves: "Hand-pulled noodles in broth, with tofu or slow-cooked pork.",
        },
        TentView {
            name: "Forest Fire Pizza",
            serves: "Wood-fired pizza by the slice, late into the night.",
        },
        TentView {
            name: "The Green Room Salad Bar",
            serves: "Grain bowls, pickles and the best flatbread on site.",
        },
    ]
}
