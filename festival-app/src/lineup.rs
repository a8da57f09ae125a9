//! What is on where: the stages and acts (shared with the JSON API), and the food tents.

use wristband_api::lineup::Stage;

use crate::templates::{ActView, StageView, TentView};

/// Every stage with its acts, in line-up order: the same line-up the JSON API serves.
pub fn stages() -> Vec<StageView> {
    wristband_api::lineup::STAGES.iter().map(view).collect()
}

/// The stage at `slug`, if there is one.
pub fn stage(slug: &str) -> Option<StageView> {
    wristband_api::lineup::stage(slug).map(view)
}

fn view(stage: &Stage) -> StageView {
    StageView {
        slug: stage.slug.to_owned(),
        name: stage.name.to_owned(),
        blurb: stage.blurb.to_owned(),
        acts: stage
            .acts
            .iter()
            .map(|act| ActView {
                time: format!(
                    "{} {}\u{2013}{}",
                    act.day.get(..3).unwrap_or(act.day),
                    act.starts,
                    act.ends
                ),
                name: act.artist.to_owned(),
            })
            .collect(),
    }
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
