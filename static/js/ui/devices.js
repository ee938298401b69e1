/**
 * @typedef {"audioinput" | "videoinput"} DeviceKind
 * @typedef {Record<DeviceKind, MediaDeviceInfo[]>} DeviceLists cameras and microphones, for pickers
 */

/**
 * Fill a <select> with devices of one kind, keeping `selectedId` selected.
 * @param {HTMLSelectElement} select @param {MediaDeviceInfo[]} devices @param {string} selectedId
 */
export function fillDeviceSelect(select, devices, selectedId) {
  const fallback = select.dataset.device === "audioinput" || select.name === "audioinput" ? "Microphone" : "Camera";
  select.replaceChildren(
    ...devices.map((device, index) => {
      const option = document.createElement("option");
      option.value = device.deviceId;
      option.textContent = device.label || `${fallback} ${index + 1}`;
      option.selected = device.deviceId === selectedId;
      return option;
    }),
  );
  select.disabled = devices.length < 2;
}
