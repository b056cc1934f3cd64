//! A WAMP callee: registers `com.example.add2`, `com.example.echo` and
//! `com.example.countdown` (progressive results) and serves them until killed.
//!
//! `cargo run --example rpc_callee -- ws://127.0.0.1:8080/ws realm1` (any router: Crossbar,
//! Autobahn's, ours; `rs://host:port` for RawSocket). Pair it with `rpc_caller`.

use ferrobahn::args;
use ferrobahn::wamp::{Client, ClientOptions, RegisterOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut a = std::env::args().skip(1);
    let url = a.next().unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    let realm = a.next().unwrap_or_else(|| "realm1".into());
    let client = Client::connect(&url, ClientOptions::new(realm))?;
    println!(
        "joined as session {} ({:?})",
        client.session_id(),
        client.format()
    );
    client.register("com.example.add2", RegisterOptions::default(), |a, _| {
        let (x, y): (i64, i64) = a.decode()?;
        Ok(args![x + y])
    })?;
    client.register("com.example.echo", RegisterOptions::default(), |a, _| Ok(a))?;
    client.register(
        "com.example.countdown",
        RegisterOptions::default(),
        |a, info| {
            let n: u32 = a.get(0)?;
            for i in (1..=n).rev() {
                info.progress(args![i])?;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Ok(args!["liftoff"])
        },
    )?;
    println!("registered com.example.add2, com.example.echo, com.example.countdown");
    while client.is_connected() {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    println!("session ended");
    Ok(())
}
