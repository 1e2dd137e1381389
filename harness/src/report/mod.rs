//! Reports: the terminal summary, the JSON report and JUnit XML.

mod json;
mod junit;
mod summary;

pub use self::json::write_json;
pub use self::junit::write_junit;
pub use self::summary::{
    never_parallel, parallel_path_counts, parallel_totals, render_parallel_totals, render_summary,
    Summary,
};
