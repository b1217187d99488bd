// The one configuration module: version pins, names and paths, the settings table and the loader. Chapters and
// lib/ import it from here; each part lives in tasks/config/.

export { type Addon, addons, defaultAddons, resolveAddons } from './config/addons.ts';
export { readEnvFile } from './config/env-file.ts';
export {
  type ClusterConfig,
  type Config,
  type GatewayApiSource,
  type IstioRelease,
  type LoadOptions,
  loadConfig,
  minikubeOf,
  ownMinikube,
  type ReleaseSource,
  upgradeProblem,
} from './config/load.ts';
export { manifestsDir, names, patchesDir, projectRoot, toolVersion } from './config/names.ts';
export {
  gatewayApi,
  istioKubernetesSupport,
  istioProfiles,
  kubernetesSupport,
  type MeshModeName,
  meshModes,
  minikubeDrivers,
  minimums,
  pins,
} from './config/pins.ts';
export {
  durationSeconds,
  type SettingName,
  type SettingTopic,
  settingNames,
  settings,
  settingTopics,
  shownDefault,
} from './config/settings.ts';
