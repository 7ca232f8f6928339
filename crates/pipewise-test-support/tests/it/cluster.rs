//! The throwaway PostgreSQL cluster the suite starts when `PIPEWISE_TEST_PG` is not set. This
//! test always exercises that path, even when CI provides a server.

use pipewise_test_support::{Cluster, skip_or_fail};

#[test]
fn a_throwaway_cluster_starts_serves_and_stops() {
    let cluster = match Cluster::start(false) {
        Ok(cluster) => cluster,
        Err(reason) => {
            skip_or_fail(&format!("PostgreSQL's initdb and pg_ctl ({reason})"));
            return;
        }
    };
    let mut client = postgres::Client::connect(&cluster.url, postgres::NoTls).unwrap();
    let answer: i32 = client.query_one("SELECT 6 * 7", &[]).unwrap().get(0);
    assert_eq!(answer, 42);
    drop(client);
    cluster.stop().unwrap();
    assert!(postgres::Client::connect(&cluster.url, postgres::NoTls).is_err(), "the cluster is gone");
    assert!(!cluster.data_dir.exists(), "its files are removed");
}
