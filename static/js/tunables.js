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
/** Weight of a new deviation in a smoothed jitter (1/16, as RFC 3550 has it). */
export const JITTER_SMOOTHING = 1 / 16;
/** Snapshot bytes per second are averaged over this window (ms). */
export const BYTES_RATE_WINDOW_MS = 2000;

// -- commands -----------------------------------------------------------------
/** PROTOCOL.md: a move, nudge or delete carries at most 64 ids. */
export const MAX_IDS_PER_COMMAND = 64;
/** game/limits.py NUDGE_DISTANCE: a nudge's target is this far along its direction. */
export const NUDGE_DISTANCE = 1;
/** PROTOCOL.md lag compensation: W = floor(LAG_WINDOW_S * tick_rate) ticks. */
export const LAG_WINDOW_S = 0.25;
/** PROTOCOL.md: at most 10 nudges a second while an arrow key is held. */
export const NUDGE_INTERVAL_MS = 100;
/** Spawns land within this many units of the ground point under the screen centre. */
export const SPAWN_SCATTER = 2;

// -- prediction and reconciliation (own cubes) ----------------------------------
/** The replay of unacknowledged commands goes at most this many ticks past the last snap. */
export const MAX_REPLAY_TICKS = 40;
/** A replay covers the present plus this many ticks, so frames between snaps need no new one. */
export const REPLAY_LOOKAHEAD_TICKS = 6;
/** Acknowledgement delays (ticks from stamp to the acking snap) kept for their median... */
export const ACK_DELAY_SAMPLES = 9;
/** ...which is trusted from this many on (the first commands go while the page is busiest
 * starting up); before, the way up is taken to be half the round trip. */
export const ACK_DELAY_MIN_SAMPLES = 3;
/** A re-prediction that moves a cube by more than this (units) counts as a correction. */
export const CORRECTION_EPSILON = 1e-6;
/** The visual error of a correction decays with this time constant (ms): a few frames. */
export const CORRECTION_SMOOTH_MS = 90;
/** A correction larger than this (units) is not bent away: the cube jumps. */
export const CORRECTION_SNAP_DISTANCE = 3;
/** Corrections per second are averaged over this window (ms). */
export const CORRECTION_RATE_WINDOW_MS = 10000;
/** The present may run ahead of real time by at most this factor while catching up. */
export const PRESENT_CATCHUP = 1.5;
/** Snaps this late (ms) against the present's timeline mean the server stalled: start again. */
export const PRESENT_RESET_LATE_MS = 5000;

// -- interpolation (other players' cubes) --------------------------------------
/** Other players' cubes are drawn this many snapshot intervals in the past, to begin with. */
export const INTERP_DELAY_TICKS = 2;
/** Then the delay adapts to the snaps' measured lateness: one interval, plus the recent
 * peak lateness, plus this margin (ticks), kept within MIN..MAX. */
export const INTERP_MARGIN_TICKS = 0.25;
export const INTERP_MIN_DELAY_TICKS = 1.25;
export const INTERP_MAX_DELAY_TICKS = 6;
/** Arrivals measured before the delay starts adapting. */
export const INTERP_ADAPT_AFTER = 10;
/** The delay changes by at most this many ticks per tick of time, up and down: remote cubes
 * slow down or speed up by at most that fraction, never jump. */
export const INTERP_DELAY_UP_PER_TICK = 0.1;
export const INTERP_DELAY_DOWN_PER_TICK = 0.02;
/** The peak lateness decays by this factor per arrival (forgets a spike in ten seconds or so). */
export const LATENESS_PEAK_DECAY = 0.99;
/** Past the newest snap (a late or lost one), cubes go on along the step toward their target
 * for at most this many ticks, then hold. */
export const EXTRAPOLATE_MAX_TICKS = 5;
/** A remote cube whose extrapolation proved wrong catches up at this fraction of its speed
 * (on top of its own motion), so its drawn speed stays below twice the real one. */
export const REMOTE_CATCHUP = 0.5;
/** A remote cube further off than this (units) jumps instead of catching up. */
export const REMOTE_SNAP_DISTANCE = 5;
/** After a gap, a full snap that the step reproduces fills the missing history (ticks). */
export const GAP_FILL_MAX_TICKS = 40;

// -- network simulation (?lag=&jitter=&loss=) -------------------------------------
/** The largest lag or jitter (ms) the page accepts from its URL. */
export const NET_SIM_MAX_LAG_MS = 5000;

// -- motion -------------------------------------------------------------------
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
/** The hovered cube pulses between these two mixes toward white, once per HOVER_PULSE_MS... */
export const HOVER_LIGHTEN = 0.45;
export const HOVER_LIGHTEN_LOW = 0.2;
export const HOVER_PULSE_MS = 700;
/** ...and is drawn lifted this far (units) off the ground, its contact shadow spread and faded. */
export const HOVER_LIFT = 0.3;
export const SELECTED_LIGHTEN = 0.2;
/** Every cube's contact shadow: a soft dark blob this many units wider than the cube on each
 * side, this dark at its middle, nudged (units per unit of height) away from the sun. */
export const SHADOW_SPREAD = 0.35;
export const SHADOW_OPACITY = 0.55;
export const SHADOW_OFFSET = [-0.08, -0.1];
/** Cube edges are darkened by this much (a bevel that keeps touching cubes apart)... */
export const CUBE_EDGE_DARKEN = 0.35;
/** ...and own cubes carry a white square on their top, this share of the top's width. */
export const OWN_MARK_SIZE = 0.42;
/** Fog: the view fades into the background colour from NEAR to FAR times the camera's
 * distance, so depth reads on the bare grid (the view's top edge is ~1.6 distances away). */
export const FOG_NEAR = 0.9;
export const FOG_FAR = 3.0;
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
/** WASD pan speed in camera distances per second (about a view's height: so a pan feels the
 * same at every zoom, and a tap moves little when zoomed in, far when zoomed out)... */
export const CAMERA_PAN_SPEED = 0.9;
/** ...by the time a key was held, from its events' timestamps; a tap counts as at least this
 * long (s), and one frame pans at most this much time (s). */
export const PAN_TAP_MIN_S = 0.08;
export const PAN_MAX_STEP_S = 0.25;
/** The first view (scene/framing.js): the player's cubes (or, with none, the arena's middle)
 * framed with every own cube on screen at least START_CUBE_MIN_PX tall (issue 14 asks for
 * 40 px in a 1280x800 window; 2 to spare), a lone group no closer than a cube in the middle
 * START_CUBE_PX tall, the box padded by START_FRAME_PAD units and kept START_FRAME_MARGIN of
 * the view's height in from its edges (the HUD sits there). */
export const START_CUBE_MIN_PX = 42;
export const START_CUBE_PX = 56;
export const START_FRAME_PAD = 3;
export const START_FRAME_MARGIN = 0.12;

// -- input --------------------------------------------------------------------
/** A left-button press that moves more than this (px) becomes a box selection. */
export const DRAG_THRESHOLD_PX = 5;
/** Two taps of one digit (a control group) or two clicks on one cube within this (ms) make a
 * double tap: centre the view on the group, select every own cube on screen. */
export const DOUBLE_TAP_MS = 350;

// -- hud ----------------------------------------------------------------------
export const TOAST_MS = 3500;
/** The net graph (key G) refreshes this often (ms). */
export const NET_GRAPH_REFRESH_MS = 250;
export const HUD_REFRESH_MS = 250;
/** The End match button asks for a second click within this time. */
export const END_CONFIRM_MS = 3000;
/** The minimap's longer side (px); the other follows the arena's shape. */
export const MINIMAP_SIZE_PX = 168;
/** The minimap is redrawn this often (ms), not every frame: thousands of dots cost a little. */
export const MINIMAP_REFRESH_MS = 50;

// -- benchmark (?bench=N) -----------------------------------------------------
export const BENCH_TICK_RATE = 10;
export const BENCH_MAX_FRAMES = 20000;
