/**
 * Every client-side tunable in one commented place (Lance style). Wire-visible limits
 * come from PROTOCOL.md and game/limits.py; the rest is feel and can be changed freely.
 */

// -- connection ---------------------------------------------------------------
/** First reconnect delay; doubles per failed attempt up to BACKOFF_MAX_MS. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 8000;
/** Each delay is scaled by a random factor in [1 - JITTER, 1]: reconnecting tabs spread out. */
export const BACKOFF_JITTER = 0.5;
/** Clock sync: a ping this often while connected (PROTOCOL.md allows 5 per second). */
export const PING_INTERVAL_MS = 1500;
/** An open socket that hears nothing for this long (snaps come every tick) is presumed dead. */
export const STALL_TIMEOUT_MS = 10000;
/** While waiting for a full snap after a gap, ask again this often (resync is rate limited). */
export const RESYNC_RETRY_MS = 1000;
/** Weight of a new round-trip sample in the smoothed RTT. */
export const RTT_SMOOTHING = 0.25;

// -- commands -----------------------------------------------------------------
/** PROTOCOL.md: a move, nudge or delete carries at most 64 ids. */
export const MAX_IDS_PER_COMMAND = 64;
/** PROTOCOL.md: at most 10 nudges a second while an arrow key is held. */
export const NUDGE_INTERVAL_MS = 100;
/** Spawns land within this many units of the ground point under the screen centre. */
export const SPAWN_SCATTER = 2;

// -- motion -------------------------------------------------------------------
/** Other players' cubes are drawn this many snapshot intervals in the past. */
export const INTERP_DELAY_TICKS = 2;
/** Samples kept per entity (a power of two); covers the delay plus late snaps. */
export const HISTORY_SIZE = 32;
/** Weight of a new arrival in the tick-to-local-time offset (smooths network jitter). */
export const CLOCK_SMOOTHING = 0.05;
/** Arrivals this far (ms) from the estimate re-anchor the playback clock at once. */
export const CLOCK_RESET_MS = 1000;

// -- scene --------------------------------------------------------------------
export const CUBE_SIZE = 1;
/** Instances are allocated in blocks of this size; the mesh is rebuilt when it grows. */
export const CUBE_CAPACITY_STEP = 512;
export const HOVER_LIGHTEN = 0.45;
export const SELECTED_LIGHTEN = 0.2;
export const UNKNOWN_OWNER_COLOR = "#9aa0a6";
export const MARKER_LIFETIME_MS = 1200;

// -- camera -------------------------------------------------------------------
export const CAMERA_FOV = 50;
/** Angle between the ground and the line of sight. */
export const CAMERA_PITCH = (56 * Math.PI) / 180;
export const CAMERA_MIN_DISTANCE = 8;
/** The farthest zoom, as a multiple of the arena's larger side. */
export const CAMERA_MAX_DISTANCE_FACTOR = 1.5;
/** The first view, as a multiple of the arena's larger side. */
export const CAMERA_START_DISTANCE_FACTOR = 0.45;
export const CAMERA_ZOOM_STEP = 1.12;
/** WASD pan speed in screen heights per second (so it feels the same at every zoom). */
export const CAMERA_PAN_SPEED = 0.9;

// -- input --------------------------------------------------------------------
/** A left-button press that moves more than this (px) becomes a box selection. */
export const DRAG_THRESHOLD_PX = 5;

// -- hud ----------------------------------------------------------------------
export const TOAST_MS = 3500;
export const HUD_REFRESH_MS = 250;
/** The End match button asks for a second click within this time. */
export const END_CONFIRM_MS = 3000;

// -- benchmark (?bench=N) -----------------------------------------------------
export const BENCH_TICK_RATE = 10;
export const BENCH_MAX_FRAMES = 20000;
