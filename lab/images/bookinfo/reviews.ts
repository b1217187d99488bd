// reviews as samples/bookinfo/src/reviews/Dockerfile makes it, from Maven Central: the war Gradle's war plugin builds
// (javac against build.gradle's providedCompile jars), on Open Liberty 24.0.0.12 with the release's server.xml, run as
// user 1001 by `server run defaultServer`. One root filesystem, three images: v1, v2 and v3 differ only in the
// environment the Dockerfile's build arguments set (SERVICE_VERSION, ENABLE_RATINGS, STAR_COLOR).
//
// Maven Central serves no openliberty-kernel and no 24.0.0.12 of the jaxrs-2.0 feature, so `featureUtility
// installServerFeatures` cannot run here; it serves the whole runtime (openliberty-runtime, every GA feature), and
// Liberty's own `server package --include=minify` keeps what server.xml's features need: what the kernel-slim image
// plus featureUtility would hold. The JVM is this machine's OpenJDK 17 (HotSpot; the Dockerfile's base has OpenJ9).
import { copyFileSync, cpSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ImageConfig } from '../archive.ts';
import { base } from '../base.ts';
import { cachedDir, contentKey, filesUnder, imageInputs } from '../cached-dir.ts';
import { javaRuntime, mavenArtifact, type PinnedArtifact } from '../inputs.ts';
import type { ImageRecipe } from '../recipe.ts';
import type { RootfsEntry } from '../rootfs.ts';
import { bookinfoSource, releaseImage, run } from './release.ts';

/** The Dockerfile's base, open-liberty:24.0.0.12-kernel-slim-java17-openj9: its Liberty, as Maven Central has it. */
export const libertyRuntime: PinnedArtifact = {
  artifact: 'io.openliberty:openliberty-runtime:24.0.0.12:zip',
  file: 'openliberty-runtime-24.0.0.12.zip',
  sha256: '65d807b3657c4fb3c12edc64a25470ab6bdd7546b6a9b444b3d53502f5f801d9',
};

/** reviews-application/build.gradle's providedCompile dependencies: compiled against, not packaged (Liberty has them). */
export const providedCompile = [
  'javax.websocket:javax.websocket-api:1.1',
  'javax.ws.rs:javax.ws.rs-api:2.0',
  'javax.json:javax.json-api:1.0',
  'javax.servlet:javax.servlet-api:3.1.0',
  'javax.annotation:javax.annotation-api:1.2',
  'javax.inject:javax.inject:1',
  'javax.enterprise.concurrent:javax.enterprise.concurrent-api:1.0',
  'javax.enterprise:cdi-api:1.2',
  'io.swagger:swagger-annotations:1.5.0',
];

function mavenCopy(artifacts: string[], dir: string): void {
  for (const a of artifacts) run('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${a}`, `-DoutputDirectory=${dir}`], dir);
}

/** reviews-application-1.0.war as `gradle build` makes it: the webapp's files, and the classes in WEB-INF/classes. */
function reviewsWar(): string {
  const app = bookinfoSource('reviews', 'reviews-application', 'src', 'main');
  return cachedDir(imageInputs, 'reviews-war', contentKey(filesUnder(app), providedCompile), (dir) => {
    const lib = path.join(dir, 'provided');
    mkdirSync(lib);
    mavenCopy(providedCompile, lib);
    const classes = path.join(dir, 'war', 'WEB-INF', 'classes');
    mkdirSync(classes, { recursive: true });
    const java = filesUnder(path.join(app, 'java')).filter((f) => f.endsWith('.java'));
    // sourceCompatibility 1.8, as build.gradle says.
    run('javac', ['--release', '8', '-nowarn', '-cp', `${lib}/*`, '-d', classes, ...java], dir);
    cpSync(path.join(app, 'webapp'), path.join(dir, 'war'), { recursive: true });
    run('jar', ['--create', '--file', path.join(dir, 'reviews-application-1.0.war'), '-C', path.join(dir, 'war'), '.'], dir);
    rmSync(path.join(dir, 'war'), { recursive: true });
    rmSync(lib, { recursive: true });
  });
}

/** The runtime zip from Maven Central, checked against its pinned digest. */
const libertyZip = (): string => mavenArtifact(libertyRuntime);

/**
 * /opt/ol/wlp: Liberty with defaultServer (the release's server.xml, the war in apps/), minified by Liberty to the
 * features server.xml names. `server package` runs the server's JVM once: on this machine's Java.
 */
function libertyServer(war: string, javaHome: string): string {
  const serverXml = bookinfoSource('reviews', 'reviews-wlpcfg', 'servers', 'LibertyProjectServer', 'server.xml');
  const zip = libertyZip();
  return cachedDir(
    imageInputs,
    'reviews-liberty',
    contentKey([serverXml, path.join(war, 'reviews-application-1.0.war')], [zip]),
    (dir) => {
      const full = path.join(dir, 'full');
      run('unzip', ['-q', zip, '-d', full], dir);
      const server = path.join(full, 'wlp', 'usr', 'servers', 'defaultServer');
      mkdirSync(path.join(server, 'apps'), { recursive: true });
      copyFileSync(serverXml, path.join(server, 'server.xml'));
      copyFileSync(path.join(war, 'reviews-application-1.0.war'), path.join(server, 'apps', 'reviews-application-1.0.war'));
      const archive = path.join(dir, 'reviews.zip');
      run(
        path.join(full, 'wlp', 'bin', 'server'),
        ['package', 'defaultServer', '--include=minify', `--archive=${archive}`],
        dir,
        {
          JAVA_HOME: javaHome,
        },
      );
      rmSync(full, { recursive: true });
      run('unzip', ['-q', archive, '-d', dir], dir);
      rmSync(archive);
      // What `server package` leaves that a container never uses: the packaging run's workarea, Windows scripts.
      rmSync(path.join(dir, 'wlp', 'usr', 'servers', 'defaultServer', 'workarea'), { recursive: true, force: true });
      for (const f of filesUnder(path.join(dir, 'wlp')).filter((f) => f.endsWith('.bat'))) rmSync(f);
    },
  );
}

/**
 * The Java modules Liberty's kernel and server.xml's features load: the JDK packages the minified server's OSGi bundles
 * import (javax.tools, java.beans, javax.security.auth.kerberos, javax.sql, ...), and at run time java.instrument (its
 * -javaagent), java.rmi, jdk.unsupported and jdk.management. jdk.attach and the two jdk.naming modules only quiet the
 * "Unknown module" warnings of Liberty's java9.options. Found by starting the server without each (lab/NOTES.md).
 */
export const libertyModules = [
  'java.base',
  'java.compiler',
  'java.desktop',
  'java.instrument',
  'java.logging',
  'java.management',
  'java.naming',
  'java.rmi',
  'java.security.jgss',
  'java.sql',
  'java.xml',
  'jdk.management',
  'jdk.unsupported',
  'jdk.attach',
  'jdk.naming.dns',
  'jdk.naming.rmi',
];

/**
 * jlink's options: java.desktop's native libraries for X11, sound, fonts and images left out (a headless server never
 * loads them). No class-data-sharing archive: it gained 1-3 % of the start and differs from build to build.
 */
const jlinkOptions = [
  '--compress=2',
  `--exclude-files=${['libawt_xawt', 'libjawt', 'libsplashscreen', 'libjsound', 'libfontmanager', 'libjavajpeg', 'liblcms', 'libmlib_image'].map((l) => `glob:**/${l}.so`).join(',')}`,
];

/**
 * Liberty's jvm.options (read by `server run`): settings for three servers starting at once on two cores, measured in
 * lab/NOTES.md. The Dockerfile's image sets none; this is the file Liberty exposes for them.
 */
export const jvmOptions = [
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
  '-Xms32m',
  '-Xmx96m',
  '-Xss512k',
  '-XX:MaxMetaspaceSize=96m',
  '-XX:ReservedCodeCacheSize=32m',
  '-XX:-UsePerfData',
];

/** `server` is a shell script (it runs uname, dirname, cat, tr, grep, mkdir, ...): Debian's static busybox gives them. */
export const busybox = '/bin/busybox';
function busyboxApplets(): RootfsEntry[] {
  const applets = run(busybox, ['--list'], '/')
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  return [{ copy: busybox, to: '/bin/busybox' }, ...applets.map((a) => ({ link: 'busybox', to: `/bin/${a}` }))];
}

/** The JDK this machine compiles and minifies with (javac's home). */
const hostJavaHome = (): string => path.dirname(path.dirname(realpathSync(run('sh', ['-c', 'command -v javac'], '/').trim())));

export function reviewsImage(): ImageRecipe {
  const config = (version: string, ratings: boolean, color: string): ImageConfig => ({
    Cmd: ['/opt/ol/wlp/bin/server', 'run', 'defaultServer'],
    Env: [
      'PATH=/bin:/opt/java/bin',
      'JAVA_HOME=/opt/java',
      'WLP_OUTPUT_DIR=/opt/ol/wlp/output',
      `SERVICE_VERSION=${version}`,
      `ENABLE_RATINGS=${ratings}`,
      `STAR_COLOR=${color}`,
    ],
    User: '1001',
    WorkingDir: '/opt/ol/wlp/output',
  });
  return {
    ref: releaseImage('reviews-v1'),
    rootfs: () => [
      // As the open-liberty images: user default (1001) in group root, which owns Liberty's group-readable files.
      ...base([{ name: 'default', uid: 1001, gid: 0 }]),
      ...busyboxApplets(),
      { tree: javaRuntime('reviews', libertyModules, jlinkOptions), to: '/opt/java' },
      { tree: path.join(libertyServer(reviewsWar(), hostJavaHome()), 'wlp'), to: '/opt/ol/wlp' },
      { text: `${jvmOptions.join('\n')}\n`, to: '/opt/ol/wlp/usr/servers/defaultServer/jvm.options' },
      // The release's bookinfo.yaml mounts its emptyDir at /opt/ibm/wlp/output (the old path), so the server writes here.
      { dir: '/opt/ol/wlp/output', mode: 0o777 },
    ],
    config: config('v1', false, 'black'),
    variants: [
      { ref: releaseImage('reviews-v2'), config: config('v2', true, 'black') },
      { ref: releaseImage('reviews-v3'), config: config('v3', true, 'red') },
    ],
  };
}

/** What the images are made from, made if missing: the war, the Liberty zip and the minified server. */
export const reviewsInputs = (): string[] => {
  const war = reviewsWar();
  return [war, libertyZip(), libertyServer(war, hostJavaHome())];
};
