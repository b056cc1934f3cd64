//! The classic Autobahn demo: `timeservice URL REALM serve` registers
//! `com.timeservice.now`, which returns the current UTC time (RFC 3339);
//! `timeservice URL REALM` calls it and prints the answer.
//!
//! `cargo run --example timeservice -- ws://127.0.0.1:8080/ws realm1 serve`

use std::time::{SystemTime, UNIX_EPOCH};

use ferrobahn::args;
use ferrobahn::wamp::{Args, Client, ClientOptions, RegisterOptions};

/// UTC time as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, no time crate needed).
fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut a = std::env::args().skip(1);
    let url = a.next().unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    let realm = a.next().unwrap_or_else(|| "realm1".into());
    let serve = a.next().as_deref() == Some("serve");
    let client = Client::connect(&url, ClientOptions::new(realm))?;
    if serve {
        client.register("com.timeservice.now", RegisterOptions::default(), |_, _| {
            Ok(args![now_utc()])
        })?;
        println!("procedure com.timeservice.now registered");
        while client.is_connected() {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    } else {
        let now: String = client.call("com.timeservice.now", Args::new())?.get(0)?;
        println!("current time from the time service: {now}");
        client.leave(std::time::Duration::from_secs(5))?;
    }
    Ok(())
}
