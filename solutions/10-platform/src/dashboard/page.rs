//! The dashboard's page frame: one layout, one style sheet and a few lines of script, embedded in
//! the binary (no CDN), and the escaping every value goes through before it is written into HTML.

/// Text made safe to put in HTML, as an element's content or a quoted attribute: lab 08's.
pub use monitor::web::dashboard::escape;

/// The signed-in user's bar at the top of every page.
pub struct Bar<'a> {
    /// Who is signed in.
    pub user: &'a str,
    /// The session's CSRF token, which the page's script sends with every form.
    pub csrf: &'a str,
    /// The server that answered and its fencing token, when it leads under a lease.
    pub served_by: Option<&'a str>,
}

/// A whole page: `title`, the signed-in user's bar (when `bar` is given), and `body`, which the
/// caller has escaped.
pub fn page(title: &str, bar: Option<Bar<'_>>, body: &str) -> String {
    let (bar, csrf) = match bar {
        Some(Bar { user, csrf, served_by }) => {
            let served = served_by
                .map(|served| format!("<span id=\"leader\" class=\"leader\" title=\"the server that leads, and its fencing token\">{}</span> ", escape(served)))
                .unwrap_or_default();
            (
                format!(
                    "<nav><a href=\"/hosts\">Hosts</a> <a href=\"/runs\">Runs</a> <a href=\"/alerts\">Alerts</a> <a href=\"/scripts\">Scripts</a> <a href=\"/releases\">Releases</a> {served}<span class=\"who\">{}</span> \
                     <button id=\"logout\">Log out</button></nav>",
                    escape(user)
                ),
                escape(csrf),
            )
        }
        None => (String::new(), String::new()),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"csrf\" content=\"{csrf}\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title} · platform</title>\
         <style>{STYLE}</style></head><body><header><h1>platform</h1>{bar}</header><main>{body}</main>\
         <script>{SCRIPT}</script></body></html>\n",
        title = escape(title),
    )
}

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}\
header{display:flex;align-items:center;gap:2em;background:#23395d;color:#fff;padding:.5em 1.5em}\
header h1{font-size:1.2em;margin:0}nav a{color:#fff;margin-right:1em}nav .who{margin:0 1em;opacity:.8}\
nav .leader{margin-left:1em;padding:.1em .5em;border:1px solid #8fa6c9;border-radius:.3em;font-size:.9em}\
main{padding:1em 1.5em}table{border-collapse:collapse;background:#fff;min-width:40em}\
th,td{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left;vertical-align:top}\
th{background:#eef1f5}pre{margin:0;white-space:pre-wrap}.ok{color:#17702f}.bad{color:#b3261e}\
.error{color:#b3261e;min-height:1.4em}form{background:#fff;padding:1em;margin-bottom:1em;max-width:40em}\
label{display:block;margin:.4em 0}input,textarea,select{font:inherit;padding:.2em;width:24em}textarea{width:36em;font-family:monospace}button{font:inherit}\
.graphs{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;background:#fff;padding:.5em;width:34em}\
figcaption{font-weight:600}.ranges a{margin-right:.6em}.ranges a.chosen{font-weight:bold}";

/// The page's behaviour: forms sent as JSON to the API with the session's CSRF token, and the
/// answer's error shown beside the form.
const SCRIPT: &str = r#"
const csrf = document.querySelector('meta[name=csrf]').content;
async function send(method, path, body) {
  const response = await fetch(path, { method, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { ok: response.ok, json: text ? JSON.parse(text) : null };
}
// The file chosen in `input`, in base64 (a chunk at a time: a spread of a whole file would pass
// more arguments than a call takes).
async function base64(input) {
  const bytes = new Uint8Array(await input.files[0].arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
const logout = document.getElementById('logout');
if (logout) logout.onclick = async () => { await send('POST', '/api/logout'); location = '/login'; };
const login = document.getElementById('login');
if (login) login.onsubmit = async (event) => {
  event.preventDefault();
  const answer = await send('POST', '/api/login', { user: login.user.value, password: login.password.value });
  if (answer.ok) location = '/hosts'; else document.getElementById('error').textContent = answer.json.error;
};
const run = document.getElementById('run');
if (run) run.onsubmit = async (event) => {
  event.preventDefault();
  const args = run.args.value.split(' ').filter((arg) => arg.length > 0);
  const answer = await send('POST', '/api/runs', { target: run.target.value, program: run.program.value, args });
  if (answer.ok) location = '/runs/' + answer.json.data.run; else document.getElementById('error').textContent = answer.json.error;
};
const upload = document.getElementById('upload');
if (upload) upload.onsubmit = async (event) => {
  event.preventDefault();
  const answer = await send('POST', '/api/scripts', { manifest: upload.manifest.value, script: await base64(upload.script) });
  if (answer.ok) location = '/scripts/' + encodeURIComponent(answer.json.data.name);
  else document.getElementById('error').textContent = answer.json ? answer.json.error : 'the upload was refused';
};
const rollout = document.getElementById('rollout');
if (rollout) rollout.onsubmit = async (event) => {
  event.preventDefault();
  const answer = await send('POST', '/api/scripts/' + encodeURIComponent(rollout.dataset.script) + '/rollouts',
    { version: Number(rollout.version.value), target: rollout.target.value });
  if (answer.ok) location = '/runs/' + answer.json.data.run; else document.getElementById('error').textContent = answer.json.error;
};
const releaseUpload = document.getElementById('release-upload');
if (releaseUpload) releaseUpload.onsubmit = async (event) => {
  event.preventDefault();
  const answer = await send('POST', '/api/releases', { package: await base64(releaseUpload.package) });
  if (answer.ok) location = '/releases/' + encodeURIComponent(answer.json.data.name) + '/' + encodeURIComponent(answer.json.data.version);
  else document.getElementById('error').textContent = answer.json ? answer.json.error : 'the upload was refused';
};
const deploy = document.getElementById('deploy');
if (deploy) deploy.onsubmit = async (event) => {
  event.preventDefault();
  const body = { target: deploy.target.value, canary: Number(deploy.canary.value), batch: deploy.batch.value,
    failure_budget: deploy.failure_budget.value, bake_secs: Number(deploy.bake_secs.value), on_failure: deploy.on_failure.value };
  if (deploy.health_metric.value) body.health = { metric: deploy.health_metric.value, max: Number(deploy.health_max.value) };
  const answer = await send('POST', '/api/releases/' + encodeURIComponent(deploy.dataset.name) + '/' +
    encodeURIComponent(deploy.dataset.version) + '/deployments', body);
  if (answer.ok) location = '/deployments/' + answer.json.data.id; else document.getElementById('error').textContent = answer.json.error;
};
for (const button of document.querySelectorAll('button.deployment')) button.onclick = async () => {
  const answer = await send('POST', '/api/deployments/' + button.dataset.id + '/' + button.dataset.action, {});
  if (answer.ok) location.reload(); else document.getElementById('error').textContent = answer.json.error;
};
for (const button of document.querySelectorAll('button.activate')) button.onclick = async () => {
  const answer = await send('PUT', '/api/scripts/' + encodeURIComponent(button.dataset.script) + '/active',
    { version: Number(button.dataset.version) });
  if (answer.ok) location.reload(); else document.getElementById('error').textContent = answer.json.error;
};
"#;
