//! The dashboard's monitoring scripts: the list with an upload form (the manifest typed or pasted,
//! the script chosen as a file, both sent to `POST /api/scripts` by the page's script, the rule
//! of the standard shown when one is broken), and a script's versions, each with a button that
//! marks it the one the hosts run, and a form that rolls a version out to a target's hosts (the
//! run's page follows, with every host's install).

use std::fmt::Write as _;

use super::page::escape;
use crate::api::scripts::{ScriptView, view};
use crate::platform::{Platform, Refusal};

/// An example manifest, shown in the upload form.
const EXAMPLE_MANIFEST: &str =
    "name = \"queue_depth\"\nmetrics = [\"queue.depth\"]\ninterval_secs = 30\ntimeout_secs = 5\n";

/// The scripts page's body: the upload form, then every script.
///
/// # Errors
///
/// The records' failure, as a [`Refusal`].
pub async fn list_section(platform: &Platform) -> Result<String, Refusal> {
    let scripts = platform.records.scripts().await?;
    let mut html = format!(
        "<form id=\"upload\"><h2>Upload a monitoring script</h2>\
         <label>Manifest <textarea name=\"manifest\" rows=\"6\" cols=\"60\" required>{}</textarea></label>\
         <label>Script <input name=\"script\" type=\"file\" required></label><button>Upload</button>\
         <p id=\"error\" class=\"error\"></p></form><h2>Scripts</h2>",
        escape(EXAMPLE_MANIFEST)
    );
    if scripts.is_empty() {
        html.push_str("<p>No scripts yet.</p>");
        return Ok(html);
    }
    html.push_str("<table id=\"scripts\"><tr><th>Script</th><th>Newest</th><th>Active</th></tr>");
    for script in scripts {
        let active = script.active.map_or_else(|| "none".to_string(), |version| version.to_string());
        let _ = write!(
            html,
            "<tr><td><a href=\"/scripts/{name}\">{name}</a></td><td>{latest}</td><td>{active}</td></tr>",
            name = escape(&script.name),
            latest = script.latest,
        );
    }
    html.push_str("</table>");
    Ok(html)
}

/// A script's page: the rollout form, then its versions, newest first, each with its manifest and
/// a button to make it active.
///
/// # Errors
///
/// [`Refusal::NotFound`] for no such script, or the records' failure.
pub async fn script_section(platform: &Platform, name: &str) -> Result<String, Refusal> {
    let ScriptView { script, versions } = view(platform, name).await?;
    let mut html = format!(
        "<h2>{name}</h2><p id=\"active\" data-active=\"{active}\">Active version: {active}</p>\
         <form id=\"rollout\" data-script=\"{name}\"><h3>Roll out to hosts</h3>\
         <label>Version <input name=\"version\" type=\"number\" min=\"1\" value=\"{latest}\" required></label>\
         <label>Target <input name=\"target\" value=\"*\" required></label><button>Roll out</button></form>\
         <p class=\"error\" id=\"error\"></p><table id=\"versions\">\
         <tr><th>Version</th><th>SHA-256</th><th>Uploaded</th><th>Manifest</th><th></th></tr>",
        name = escape(&script.name),
        active = script.active.map_or_else(|| "none".to_string(), |version| version.to_string()),
        latest = script.latest,
    );
    for version in versions {
        let number = version.version;
        let button = if script.active == Some(number) {
            "active".to_string()
        } else {
            format!(
                "<button class=\"activate\" data-script=\"{}\" data-version=\"{number}\">Make active</button>",
                escape(name)
            )
        };
        let _ = write!(
            html,
            "<tr><td>{number}</td><td><code>{sha}…</code></td><td>{by}, {at}</td><td><pre>{manifest}</pre></td><td>{button}</td></tr>",
            sha = &version.sha256[..12.min(version.sha256.len())],
            by = escape(&version.uploaded_by),
            at = monitor::web::svg::clock(version.uploaded),
            manifest = escape(&version.manifest),
        );
    }
    html.push_str("</table>");
    Ok(html)
}
