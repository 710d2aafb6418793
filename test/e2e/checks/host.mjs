// The host after the cluster tier: --down puts back what the cluster changed.
import { tearDownCluster } from "../../../scripts/local/lib.mjs";
import { eq } from "../lib/assertions.mjs";
import { secs } from "../lib/clusterTest.mjs";

export const downRestoresHost = (r, t, n) =>
    r.check(n, "--down: every process, mount, link, iptables rule, sysctl, cgroup and host dir as before the cluster started", async () => {
        const t0 = Date.now();
        const { report, left } = await tearDownCluster(t.dir);
        eq(left, [], "host differences after --down");
        return `${secs(Date.now() - t0)}; ${report.length ? report.join("; ") : "nothing needed restoring beyond the components' own cleanup"}`;
    });
