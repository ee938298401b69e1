/**
 * The scene's wiring, by main.js: its toolbar, the example scenes, photos and
 * recordings saved, and its picture going into the call. Connects events only.
 */
import { asFailure, Failure } from "../lib/failure.js";
import { download } from "../scene/recorder.js";
import { SceneSchema } from "../scene/schema.js";
import { sendTrack } from "./call.js";

/** @typedef {import("../main.js").Parts} Parts */

/** The composed scene, its toolbar, and its picture going into the call. @param {Parts} parts */
export function wireScene({ scene, scenePanel, mesh, media, failures }) {
  loadScenes()
    .then((catalogue) => {
      scene.useCatalogue(catalogue);
      scenePanel.setExamples(catalogue.examples);
    })
    .catch((error) => failures.report(asFailure(error, "scene-catalogue", "Example scenes are not available")));
  scenePanel.on("example", (id) => scene.useExample(id));
  scenePanel.on("private", (on) => scene.setPrivate(on));
  scenePanel.on("align", (on) => scene.setAlignFaces(on));
  scenePanel.on("restack", (direction) => scene.restack(direction));
  scenePanel.on("upload", (file) => scene.upload(file));
  scenePanel.on("photo", () => scene.takePhoto());
  scenePanel.on("record", () => scene.toggleRecording());
  scenePanel.on("share", () => scene.toggleShare());
  scenePanel.on("broadcast", () => scene.toggleBroadcast());
  scenePanel.on("copy-watch", (link) => {
    navigator.clipboard
      .writeText(link)
      .then(() => scenePanel.say("Watch link copied"))
      .catch((error) => failures.report(new Failure("copy", `Copy this link: ${link}`, { cause: error })));
  });
  scene.on("broadcast", (watch) => {
    scenePanel.setBroadcast(watch);
    scenePanel.say(watch ? "Broadcasting: copy the watch link for your viewers." : "");
  });
  scene.on("shown", (shown) => scenePanel.setShown(shown));
  scene.on("state", (state) => scenePanel.setScene(state));
  scenePanel.setScene(scene.viewState);
  scene.on("recording", (recording) => scenePanel.setRecording(recording));
  scene.on("status", (text) => scenePanel.say(text));
  scene.on("photo", (blob) => download(blob, `ensemble-${stamp()}.png`));
  scene.on("video", (blob) => download(blob, `ensemble-${stamp()}.webm`));
  scene.on("share", (track) => {
    scenePanel.setSharing(track !== null);
    sendTrack(mesh, failures, "video", track ?? media.stream.getVideoTracks()[0] ?? null);
  });
  scene.on("error", (failure) => failures.report(failure, { context: failure.code === "upload" ? "scene-status" : "" }));
  failures.showIn("scene-status", (failure) => scenePanel.say(failure.message));
}

/** The scene schema and the example scenes, from the server. */
async function loadScenes() {
  const [schema, response] = await Promise.all([SceneSchema.load(), fetch("/api/scenes")]);
  if (!response.ok) throw new Error(`the example scenes could not be loaded (${response.status})`);
  return { schema, examples: (await response.json()).scenes };
}

function stamp() {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
}
