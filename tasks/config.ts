// The one configuration module: version pins, names and paths, the settings table and the loader. Chapters and
// lib/ import it from here; each part lives in tasks/config/.
export { istioKubernetesSupport, istioProfiles, kubernetesSupport, minikubeDrivers, minimums, pins } from './config/pins.ts';
export { manifestsDir, names, patchesDir, projectRoot } from './config/names.ts';
export { settingNames, settings, settingsHelp, shownDefault, type SettingName } from './config/settings.ts';
export { readEnvFile } from './config/env-file.ts';
export { loadConfig, minikubeOf, ownMinikube, type ClusterConfig, type Config, type LoadOptions, type ReleaseSource } from './config/load.ts';
