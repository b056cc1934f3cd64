//! A WAMP caller: calls `com.example.add2` (served by `rpc_callee`), then the progressive
//! `com.example.countdown`, printing the results.
//!
//! `cargo run --example rpc_caller -- ws://127.0.0.1:8080/ws realm1`

use ferrobahn::args;
use ferrobahn::wamp::{CallOptions, Client, ClientOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut a = std::env::args().skip(1);
    let url = a.next().unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    let realm = a.next().unwrap_or_else(|| "realm1".into());
    let client = Client::connect(&url, ClientOptions::new(realm))?;
    let sum: i64 = client.call("com.example.add2", args![2, 3])?.get(0)?;
    println!("com.example.add2(2, 3) = {sum}");
    for r in client.call_progressive("com.example.countdown", args![3], &CallOptions::default())? {
        println!("countdown: {}", r?.args[0]);
    }
    client.leave(std::time::Duration::from_secs(5))?;
    Ok(())
}
