//! WAMP publish and subscribe: `pubsub URL REALM publish` publishes a counter on
//! `com.example.oncounter` every second; `pubsub URL REALM subscribe` prints what arrives.
//!
//! `cargo run --example pubsub -- ws://127.0.0.1:8080/ws realm1 subscribe`

use ferrobahn::args;
use ferrobahn::wamp::{Client, ClientOptions, PublishOptions, SubscribeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut a = std::env::args().skip(1);
    let url = a.next().unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    let realm = a.next().unwrap_or_else(|| "realm1".into());
    let role = a.next().unwrap_or_else(|| "subscribe".into());
    let client = Client::connect(&url, ClientOptions::new(realm))?;
    if role == "publish" {
        for i in 0u64.. {
            client.publish(
                "com.example.oncounter",
                args![i],
                &PublishOptions::default(),
            )?;
            println!("published {i}");
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    } else {
        let (_, events) =
            client.subscribe_channel("com.example.oncounter", SubscribeOptions::default())?;
        println!("subscribed to com.example.oncounter");
        for (args, info) in events {
            println!("event {:?} (publication {})", args.args, info.publication);
        }
    }
    Ok(())
}
