import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "../styles.css";
import "./inbox.css";
import { InboxApp } from "./inbox-app.js";

const root = document.getElementById("root");
if (!root) throw new Error("the page has no #root element");
createRoot(root).render(
  <StrictMode>
    <InboxApp />
  </StrictMode>,
);
