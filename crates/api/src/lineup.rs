//! The festival line-up: three stages and who plays when.
//!
//! Static data, shared by the JSON API (`GET /api/stages/{stage}`) and the festival app's pages.
//! Every band here is invented.

/// One performance on a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Act {
    /// Who plays.
    pub artist: &'static str,
    /// The festival day: `Friday`, `Saturday` or `Sunday`.
    pub day: &'static str,
    /// Start time, `HH:MM`, festival local time.
    pub starts: &'static str,
    /// End time, `HH:MM`.
    pub ends: &'static str,
}

/// A stage and its acts, in running order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// The URL name: `main`, `forest` or `harbour`.
    pub slug: &'static str,
    /// The name on the signposts.
    pub name: &'static str,
    /// A line for the programme.
    pub blurb: &'static str,
    /// What plays there, in running order.
    pub acts: &'static [Act],
}

/// Every stage, in the order the programme lists them.
pub const STAGES: &[Stage] = &[
    Stage {
        slug: "main",
        name: "Main Stage",
        blurb: "The big field, the big sound.",
        acts: &[
            Act {
                artist: "The Lanyards",
                day: "Friday",
                starts: "18:00",
                ends: "19:15",
            },
            Act {
                artist: "Signal Fire",
                day: "Friday",
                starts: "20:00",
                ends: "21:30",
            },
            Act {
                artist: "Neon Turnstile",
                day: "Saturday",
                starts: "21:00",
                ends: "23:00",
            },
        ],
    },
    Stage {
        slug: "forest",
        name: "Forest Stage",
        blurb: "Acoustic sets under the pines.",
        acts: &[
            Act {
                artist: "Moss & Lantern",
                day: "Friday",
                starts: "16:30",
                ends: "17:30",
            },
            Act {
                artist: "The Quiet Hours",
                day: "Saturday",
                starts: "15:00",
                ends: "16:00",
            },
            Act {
                artist: "Fernwave",
                day: "Sunday",
                starts: "14:00",
                ends: "15:15",
            },
        ],
    },
    Stage {
        slug: "harbour",
        name: "Harbour Stage",
        blurb: "Late-night electronics by the water.",
        acts: &[
            Act {
                artist: "Tidecaller",
                day: "Friday",
                starts: "23:00",
                ends: "00:30",
            },
            Act {
                artist: "Buoy Oh Buoy",
                day: "Saturday",
                starts: "23:30",
                ends: "01:00",
            },
            Act {
                artist: "Low Tide Collective",
                day: "Sunday",
                starts: "22:00",
                ends: "23:30",
            },
        ],
    },
];

/// The stage with URL name `slug`, or `None`. Matching is exact: `Main` is not `main`.
pub fn stage(slug: &str) -> Option<&'static Stage> {
    STAGES.iter().find(|stage| stage.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_stages_are_found_by_slug() {
        let slugs: Vec<&str> = STAGES.iter().map(|stage| stage.slug).collect();
        assert_eq!(slugs, ["main", "forest", "harbour"]);
        assert_eq!(stage("forest").map(|s| s.name), Some("Forest Stage"));
    }

    #[test]
    fn an_unknown_or_differently_cased_slug_is_no_stage() {
        assert_eq!(stage("Main"), None);
        assert_eq!(stage("moon"), None);
    }

    #[test]
    fn every_stage_has_acts_with_hh_mm_times() {
        for stage in STAGES {
            assert!(!stage.acts.is_empty(), "{} has no acts", stage.slug);
            for act in stage.acts {
                for time in [act.starts, act.ends] {
                    let bytes = time.as_bytes();
                    assert!(
                        bytes.len() == 5 && bytes[2] == b':',
                        "{}: {time}",
                        act.artist
                    );
                }
            }
        }
    }
}
